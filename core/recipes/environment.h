// What the engine runs on, for --version, logs and reports (torch-free header).
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "report/report.h"

namespace imsm {

std::string engine_version();   // "0.1.0"
std::string torch_version();    // "2.15.0"
bool cuda_available();
std::string blas_warning_line();  // "" when the BLAS is fast
report::Environment report_environment();  // versions, now, host: the header of every report

// Everything about the machine a run depends on: `imsm env --json`, the
// workbench's Help -> About, the benchmarks' headers.
struct EngineEnvironment {
  std::string engine;          // "0.1.0"
  std::string libtorch;        // "2.15.0"
  bool cuda_compiled = false;  // the engine's CUDA path is built (LibTorch's CUDA libraries linked)
  std::string cuda_version;    // the CUDA LibTorch was built with, "13.2"; "" without
  std::string cudnn_version;   // "9.26.0"; "" without
  int cuda_devices = 0;        // visible now
  std::vector<std::string> devices;  // "cuda:0 NVIDIA H200, compute 9.0, 139.8 GiB"
  std::string blas;            // "mkl (static in LibTorch)", "openblas (/usr/lib/...)"
  int threads = 0;             // intra-op threads LibTorch uses on CPU
  std::string cpu;             // "AMD EPYC" (the model name of /proc/cpuinfo)
  std::vector<std::string> cpu_bf16;  // the CPU's bf16 instructions: "avx512_bf16", "amx_bf16" (none: bf16 is emulated)
};
// For people: what "dtype" auto and bf16 do on this CPU, and why.
std::string cpu_bf16_line(const EngineEnvironment& env);
EngineEnvironment engine_environment();
nlohmann::ordered_json to_json(const EngineEnvironment& env);

}  // namespace imsm
