#include "imsm/imsm_adapter.h"

#include <filesystem>

#include "util/error.h"

namespace imsm {

LoadedAdapter load_adapter(LlamaModel& model, const std::string& dir) {
  LoadedAdapter out;
  out.adapters = PeftAdapters::load(model, dir);
  const auto config = std::filesystem::path(dir) / "imsm_config.json";
  if (!std::filesystem::exists(config)) return out;
  const auto dtype = model.dtype() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;  // gate math in >= fp32
  out.gate = std::make_unique<ImsmGate>(ImsmGate::load(dir, model.device(), dtype));
  if (out.gate->config().hidden_size != model.config().hidden_size)
    throw_bad_input(config.string(), "hidden_size " + std::to_string(out.gate->config().hidden_size) + " does not match the model's " +
                                         std::to_string(model.config().hidden_size));
  if (out.gate->config().variant == GateVariant::None) out.gate.reset();  // the PEFT method alone
  return out;
}

}  // namespace imsm
