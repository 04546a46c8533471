// Where and in which precision a model runs, as settings (torch-free): read
// once from a configuration or a flag, then passed typed. model/device.h turns
// them into LibTorch's device and dtype.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/choices.h"

namespace imsm {

enum class Precision { Auto, F32, BF16, F16 };  // auto: auto_precision()

// auto, f32, bf16, f16 (float32, fp32, bfloat16, float16, fp16 read as aliases).
const Choices<Precision>& precisions();

struct ModelConfig;
// The precision a checkpoint is stored in: its config.json's torch_dtype
// (F32, BF16 or F16; parse_model_config refused any other).
Precision checkpoint_precision(const ModelConfig& config);

// The CPU's bf16 instructions as /proc/cpuinfo names them: "avx512_bf16",
// "amx_bf16" (empty: bf16 is emulated, slower than fp32).
const std::vector<std::string>& cpu_bf16_instructions();
// The smallest model auto runs in bf16 on such a CPU: SmolLM2-135M trained
// 1.8x faster in bf16 there, a 1.6M-parameter toy 10% slower (docs/PERFORMANCE.md).
constexpr int64_t kCpuBf16MinParameters = 100'000'000;
// What "dtype" auto means: on CUDA the checkpoint's precision; on a CPU with
// bf16 instructions bf16 for a model of at least kCpuBf16MinParameters; else f32.
Precision auto_precision(const ModelConfig& config, bool cuda);

struct DeviceSpec {
  bool cuda = false;
  int index = -1;  // CUDA: -1 for "cuda" (the first device), else N of "cuda:N"

  static DeviceSpec cpu() { return {}; }
  std::string text() const;                    // "cpu", "cuda", "cuda:1" (as read)
  std::optional<int> cuda_index() const;       // 0 for "cuda", N for "cuda:N"; nullopt on the CPU
  bool operator==(const DeviceSpec&) const = default;
};

// "cpu", "cuda" or "cuda:N"; nullopt otherwise.
std::optional<DeviceSpec> read_device_spec(const std::string& text);
// As read_device_spec; BadInput on `where` naming `key` for anything else.
DeviceSpec parse_device_spec(const std::string& text, const std::string& key, const std::string& where);

}  // namespace imsm
