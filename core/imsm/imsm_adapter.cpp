#include "imsm/imsm_adapter.h"

#include <filesystem>

#include "util/error.h"

namespace imsm {

LoadedAdapter load_adapter(LlamaModel& model, const std::string& dir) {
  LoadedAdapter out;
  out.adapters = PeftAdapters::load(model, dir);
  const auto config = std::filesystem::path(dir) / "imsm_config.json";
  if (!std::filesystem::exists(config)) return out;
  out.gate = ImsmGate::load(dir, model.device(), gate_dtype(model.dtype()));  // null for the variant none
  if (out.gate && out.gate->config().hidden_size != model.config().hidden_size)
    throw_bad_input(config.string(), "hidden_size " + std::to_string(out.gate->config().hidden_size) + " does not match the model's " +
                                         std::to_string(model.config().hidden_size));
  return out;
}

}  // namespace imsm
