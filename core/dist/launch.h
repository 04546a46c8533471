// How a launcher started this process: torchrun (or anything that sets the
// same variables) gives each process its RANK among WORLD_SIZE, its
// LOCAL_RANK on its node (its GPU), and MASTER_ADDR:MASTER_PORT, where the
// rendezvous store listens. Torch-free.
#pragma once
#include <string>

namespace imsm::dist {

struct Launch {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool agent_store = false;  // torchrun's agent already serves the store (TORCHELASTIC_USE_AGENT_STORE)
  bool distributed() const { return world_size > 1; }
  bool writer() const { return rank == 0; }  // the one process that writes files, the workspace and progress
};

// From the environment: one process (world size 1) when WORLD_SIZE is unset;
// BadInput naming the variable when one is malformed or out of range.
Launch launch_from_environment();

}  // namespace imsm::dist
