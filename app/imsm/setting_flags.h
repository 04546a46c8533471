// Flags that set a typed setting: the text is read into its enum or device as
// the command line is parsed, and a bad value is a parse error naming the flag
// ("--dtype: ... is not one of auto, f32, bf16, f16"), one line, exit 2.
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "model/device_spec.h"

namespace imsm::cli {

// --device: cpu, cuda or cuda:N.
CLI::Option* add_device_flag(CLI::App* cmd, DeviceSpec& device, const std::string& help = "cpu, cuda or cuda:N");
// --dtype: auto, f32, bf16 or f16 (aliases float32, bfloat16, ... read too).
CLI::Option* add_dtype_flag(CLI::App* cmd, Precision& dtype, const std::string& help);

}  // namespace imsm::cli
