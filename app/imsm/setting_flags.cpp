#include "setting_flags.h"

namespace imsm::cli {

// A bad value throws CLI11's validation error, which main prints as one line (exit 2).
CLI::Option* add_device_flag(CLI::App* cmd, DeviceSpec& device, const std::string& help) {
  const auto read = [&device](const std::string& text) {
    const auto d = read_device_spec(text);
    if (!d) throw CLI::ValidationError("--device: \"" + text + "\" is not cpu, cuda or cuda:N");
    device = *d;
  };
  return cmd->add_option_function<std::string>("--device", read, help)->default_str(device.text());
}

CLI::Option* add_dtype_flag(CLI::App* cmd, Precision& dtype, const std::string& help) {
  const auto read = [&dtype](const std::string& text) {
    const auto p = precisions().find(text);
    if (!p) throw CLI::ValidationError("--dtype: " + precisions().refusal(text));
    dtype = *p;
  };
  return cmd->add_option_function<std::string>("--dtype", read, help)->default_str(precisions().name(dtype));
}

}  // namespace imsm::cli
