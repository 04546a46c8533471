#include "recipes/loaded_model.h"

#include <filesystem>

#include "imsm/imsm_adapter.h"
#include "dist/launch.h"
#include "model/cuda_device.h"
#include "model/device.h"
#include "model/llama.h"
#include "model/loader.h"
#include "peft/peft_config.h"
#include "util/error.h"
#include "tokenizer/tokenizer.h"

namespace imsm {

LoadedModel::~LoadedModel() = default;

namespace {
bool has_tokenizer(const std::string& dir) {
  return std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json") ||
         std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.model");
}
}  // namespace

std::string adapter_base_model(const std::string& adapter_dir, const std::string& model_dir) {
  namespace fs = std::filesystem;
  const std::string where = (fs::path(adapter_dir) / "adapter_config.json").string();
  const std::string dir = model_dir.empty() ? read_adapter_config(where).base_model : model_dir;
  if (dir.empty()) throw_bad_input(where, "base_model_name_or_path is empty: name the base model with --model DIR");
  if (!fs::exists(fs::path(dir) / "config.json"))
    throw_bad_input(model_dir.empty() ? where : dir,
                    "the base model " + dir + " has no config.json" + (model_dir.empty() ? ": name the base model with --model DIR" : ""));
  return dir;
}

ModelSource runnable_here(const ModelSource& source, std::string* note) {
  const std::optional<int> index = source.device.cuda_index();
  if (!index) return source;  // the CPU, or not a device at all (load_model names the problem)
  const int visible = cuda_device_count();
  if (*index < visible) return source;
  ModelSource cpu = source;
  cpu.device = DeviceSpec::cpu();
  cpu.dtype = Precision::Auto;
  if (note) *note = source.device.text() + " is not visible here (" + std::to_string(visible) + " CUDA devices): on the CPU in f32";
  return cpu;
}

ModelSource on_this_process(ModelSource source) {
  const dist::Launch launch = dist::launch_from_environment();
  if (launch.distributed() && source.device.cuda) source.device = {true, launch.local_rank};
  return source;
}

std::unique_ptr<LoadedModel> load_model(const ModelSource& source, TokenizerNeed tokenizer) {
  LoadOptions load;
  load.device = torch_device(source.device);
  load.dtype = scalar_type(source.dtype, torch::ScalarType::Undefined);  // auto: LoadOptions decides
  auto m = std::make_unique<LoadedModel>();
  m->source = source;
  m->model = load_llama(source.model_dir, load);
  if (!source.adapter_dir.empty()) {
    LoadedAdapter adapter = load_adapter(*m->model, source.adapter_dir);
    m->adapters = std::move(adapter.adapters);
    m->gate = std::move(adapter.gate);
  }
  if (tokenizer == TokenizerNeed::Required || has_tokenizer(source.model_dir)) m->tokenizer = load_tokenizer(source.model_dir);
  return m;
}

}  // namespace imsm
