// The training configuration: the first line a JSON object (official keys and
// this project's), each further line a --set key=value override.
#include <vector>

#include "config/train_config.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string all(reinterpret_cast<const char*>(data), size);
  const size_t newline = all.find('\n');
  const std::string first = all.substr(0, newline);
  std::vector<std::string> overrides;
  for (size_t at = newline; at != std::string::npos && at < all.size();) {
    const size_t next = all.find('\n', at + 1);
    overrides.push_back(all.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
    at = next;
  }
  const std::string path = imsm::fuzz::write_input(reinterpret_cast<const uint8_t*>(first.data()), first.size(), "-train.json");
  imsm::fuzz::expect_clean([&] {
    const imsm::TrainConfig c = imsm::read_train_config(path, overrides);
    (void)imsm::parse_train_config(c.to_json(), "round trip");
    (void)imsm::peft_config(c).to_adapter_config();
  });
  return 0;
}
