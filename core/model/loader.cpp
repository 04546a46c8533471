#include "model/loader.h"

#include <filesystem>
#include <fstream>

#include "io/checkpoint.h"
#include "io/json_file.h"
#include "model/device.h"
#include "model/layout.h"
#include "model/tensor_io.h"
#include "util/error.h"
#include "util/log.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {
torch::ScalarType resolve_dtype(const LoadOptions& o, const ModelConfig& c) {
  const torch::ScalarType dtype = o.dtype != torch::ScalarType::Undefined ? o.dtype : scalar_type(auto_precision(c, !o.device.is_cpu()));
  if (o.dtype == torch::ScalarType::Undefined && o.device.is_cpu() && dtype == torch::kBFloat16)
    log::info("dtype auto: the model in bf16 on this CPU (" + cpu_bf16_instructions().front() + ", " +
              std::to_string(c.num_parameters() / 1000000) + "M parameters); \"dtype\": \"f32\" (--dtype f32) computes in fp32");
  check_dtype_supported(o.device, dtype);
  return dtype;
}
}  // namespace

std::unique_ptr<LlamaModel> load_llama(const std::string& dir, const LoadOptions& options) {
  refuse_pickled(dir);
  const std::string config_path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(config_path)) throw_bad_input(dir, "no config.json: not a Hugging Face model folder");
  ModelConfig config = read_model_config(config_path);
  const CheckpointWeights weights = CheckpointWeights::open(dir);
  check_layout(config, weights, config_path);

  const torch::ScalarType dtype = resolve_dtype(options, config);
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& shard : weights.shards()) {
    for (const auto& view : shard.tensors()) {
      if (view.name.find("rotary_emb.inv_freq") != std::string::npos) continue;
      tensors[view.name] = to_tensor(view, shard.mapping(), options.device, dtype);
    }
  }
  if (config.tie_word_embeddings) tensors.erase("lm_head.weight");
  return std::make_unique<LlamaModel>(std::move(config), std::move(tensors));
}

std::unique_ptr<LlamaModel> init_llama(const ModelConfig& config, uint64_t seed, const LoadOptions& options) {
  torch::NoGradGuard no_grad;
  const torch::ScalarType dtype = resolve_dtype(options, config);
  auto gen = at::detail::createCPUGenerator(seed);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& e : expected_tensors(config)) {
    torch::Tensor t;
    const bool is_norm = e.name.find("norm.weight") != std::string::npos;
    const bool is_bias = e.name.size() > 5 && e.name.compare(e.name.size() - 5, 5, ".bias") == 0;
    if (is_norm) t = torch::ones(e.shape);
    else if (is_bias) t = torch::zeros(e.shape);
    else t = at::normal(0.0, 0.02, e.shape, gen);
    tensors[e.name] = t.to(options.device, dtype);
  }
  return std::make_unique<LlamaModel>(config, std::move(tensors));
}

void save_llama(const LlamaModel& model, const std::string& dir, torch::ScalarType dtype) {
  fs::create_directories(dir);
  ModelConfig config = model.config();
  if (dtype == torch::ScalarType::Undefined) dtype = scalar_type(checkpoint_precision(config));
  config.torch_dtype = dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& [name, t] : model.named_weights()) tensors.emplace_back(name, t.to(dtype));
  save_tensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
  json::write_file((fs::path(dir) / "config.json").string(), config.to_json());
}

}  // namespace imsm
