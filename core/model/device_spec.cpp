#include "model/device_spec.h"

#include <fstream>
#include <sstream>

#include "io/hf_config.h"

namespace imsm {

const Choices<Precision>& precisions() {
  static const Choices<Precision> c = {
      {"auto", Precision::Auto},         {"f32", Precision::F32},           {"bf16", Precision::BF16},
      {"f16", Precision::F16},           {"float32", Precision::F32, true}, {"fp32", Precision::F32, true},
      {"bfloat16", Precision::BF16, true}, {"float16", Precision::F16, true}, {"fp16", Precision::F16, true}};
  return c;
}

Precision checkpoint_precision(const ModelConfig& config) {
  return precisions().parse(config.torch_dtype, "torch_dtype", "config.json");
}

const std::vector<std::string>& cpu_bf16_instructions() {
  static const std::vector<std::string> found = [] {
    std::vector<std::string> out;
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string w; words >> w;)
        if (w == "avx512_bf16" || w == "amx_bf16") out.push_back(w);
      break;  // the first processor's: every core of a machine has the same
    }
    return out;
  }();
  return found;
}

Precision auto_precision(const ModelConfig& config, bool cuda) {
  if (cuda) return checkpoint_precision(config);
  const bool large = config.num_parameters() >= kCpuBf16MinParameters;
  return large && !cpu_bf16_instructions().empty() ? Precision::BF16 : Precision::F32;
}

std::string DeviceSpec::text() const {
  if (!cuda) return "cpu";
  return index < 0 ? "cuda" : "cuda:" + std::to_string(index);
}

std::optional<int> DeviceSpec::cuda_index() const {
  if (!cuda) return std::nullopt;
  return index < 0 ? 0 : index;
}

std::optional<DeviceSpec> read_device_spec(const std::string& text) {
  if (text == "cpu") return DeviceSpec::cpu();
  if (text == "cuda") return DeviceSpec{true, -1};
  const std::string prefix = "cuda:";
  const std::string n = text.compare(0, prefix.size(), prefix) == 0 ? text.substr(prefix.size()) : "";
  if (!n.empty() && n.size() <= 4 && n.find_first_not_of("0123456789") == std::string::npos) return DeviceSpec{true, std::stoi(n)};
  return std::nullopt;
}

DeviceSpec parse_device_spec(const std::string& text, const std::string& key, const std::string& where) {
  if (const auto d = read_device_spec(text)) return *d;
  throw_bad_input(where, "key \"" + key + "\": \"" + text + "\" is not cpu, cuda or cuda:N");
}

}  // namespace imsm
