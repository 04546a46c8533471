#include "recipes/environment.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdio>
#include <fstream>

#include "model/blas_check.h"
#include "model/cuda_device.h"
#include "model/device_spec.h"
#include "util/process.h"

namespace imsm {

std::string engine_version() { return IMSM_VERSION; }
std::string torch_version() { return TORCH_VERSION; }
bool cuda_available() { return cuda_device_count() > 0; }
std::string blas_warning_line() { return blas_warning(); }

report::Environment report_environment() {
  return {engine_version(), torch_version(), utc_now_iso8601(), current_process().host};
}

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      std::string name = line.substr(line.find(':') + 1);
      name.erase(0, name.find_first_not_of(' '));
      return name;
    }
  return "unknown";
}

std::string describe(const CudaDevice& d) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "cuda:%d %s, compute %d.%d, %.1f GiB", d.index, d.name.c_str(), d.major, d.minor,
                static_cast<double>(d.total_bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace

EngineEnvironment engine_environment() {
  EngineEnvironment env;
  env.engine = engine_version();
  env.libtorch = torch_version();
  env.cuda_compiled = cuda_compiled();
  env.cuda_version = cuda_runtime_version();
  env.cudnn_version = cudnn_version();
  for (const CudaDevice& d : cuda_devices(false)) env.devices.push_back(describe(d));
  env.cuda_devices = static_cast<int>(env.devices.size());
  env.blas = blas_library();
  env.threads = torch::get_num_threads();
  env.cpu = cpu_model();
  env.cpu_bf16 = cpu_bf16_instructions();
  return env;
}

std::string cpu_bf16_line(const EngineEnvironment& env) {
  if (env.cpu_bf16.empty())
    return "no bf16 instructions on this CPU (neither AVX512-BF16 nor AMX): \"dtype\" auto computes in fp32 here; bf16 "
           "would be emulated (slower than fp32)";
  std::string flags;
  for (const auto& f : env.cpu_bf16) flags += (flags.empty() ? "" : ", ") + f;
  return "bf16 in hardware (" + flags + "): \"dtype\" auto runs models of " + std::to_string(kCpuBf16MinParameters / 1000000) +
         "M parameters or more in bf16 here (a SmolLM2 LoRA step 1.8x faster than fp32; smaller models stay fp32, where bf16 "
         "was slower); \"dtype\": \"f32\" keeps fp32, as on CPUs without bf16";
}

nlohmann::ordered_json to_json(const EngineEnvironment& env) {
  return {{"engine", env.engine},         {"libtorch", env.libtorch},         {"cuda_compiled", env.cuda_compiled},
          {"cuda_version", env.cuda_version}, {"cudnn_version", env.cudnn_version}, {"cuda_devices", env.cuda_devices},
          {"devices", env.devices},       {"blas", env.blas},                 {"threads", env.threads},
          {"cpu", env.cpu},               {"cpu_bf16", env.cpu_bf16}};
}

}  // namespace imsm
