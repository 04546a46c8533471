#include "dist/launch.h"

#include <cstdlib>

#include "util/error.h"

namespace imsm::dist {

namespace {

// The variable as a whole number in [lo, hi]; `fallback` when unset.
int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  const std::string text(v);
  if (text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
    throw_bad_input(name, "\"" + text + "\" is not a whole number");
  const int n = std::stoi(text);
  if (n < lo || n > hi) throw_bad_input(name, std::to_string(n) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return n;
}

}  // namespace

Launch launch_from_environment() {
  Launch l;
  l.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  l.rank = env_int("RANK", 0, 0, l.world_size - 1);
  l.local_rank = env_int("LOCAL_RANK", l.rank, 0, l.world_size - 1);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) l.master_addr = a;
  l.master_port = env_int("MASTER_PORT", l.master_port, 1, 65535);
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  l.agent_store = agent && std::string(agent) == "True";
  if (l.distributed() && !std::getenv("MASTER_ADDR"))
    throw_bad_input("MASTER_ADDR", "unset while WORLD_SIZE is " + std::to_string(l.world_size) + "; start the processes with torchrun");
  return l;
}

}  // namespace imsm::dist
