// A c10d process group over the processes of a launch (dist/launch.h): Gloo
// when the tensors live on the CPU, NCCL on CUDA — PyTorch's own distributed
// engine, the one torchrun users run. The c10d types stay in the .cpp.
//
// Faults: every collective waits at most `timeout`; a rank that died or hangs
// makes the others throw an Error naming this rank, the operation and the
// timeout, never a silent hang (torchrun then stops the remaining processes).
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "dist/launch.h"
#include "util/run_protocol.h"

namespace imsm::dist {

class ProcessGroup {
 public:
  // Every process of the launch calls it; the rendezvous waits at most `timeout`.
  static std::unique_ptr<ProcessGroup> join(const Launch& launch, torch::Device device, std::chrono::milliseconds timeout);
  ~ProcessGroup();

  int rank() const { return launch_.rank; }
  int size() const { return launch_.world_size; }
  const Launch& launch() const { return launch_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // In place, the elementwise sum over the ranks of a contiguous tensor.
  void all_reduce_sum(torch::Tensor& t);
  // Every rank's bytes, in rank order, on every rank.
  std::vector<std::string> all_gather(const std::string& bytes);
  void barrier();

 private:
  struct Impl;
  ProcessGroup(const Launch& launch, std::chrono::milliseconds timeout, std::unique_ptr<Impl> impl);
  Launch launch_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Impl> impl_;
};

// What rank 0 (the writer) decided, on every rank: rank 0's bytes; the others' are ignored.
std::string from_writer(ProcessGroup& group, const std::string& bytes);
// The cancel rule over several processes: true on every rank when any rank's
// hooks ask to stop, so that all stop at the same point (rank 0 then records
// the run as cancelled). Without a group: hooks.aborted().
bool any_rank_aborted(ProcessGroup* group, const Hooks& hooks);

// The timeout of every rendezvous and collective: IMSM_DIST_TIMEOUT seconds
// (default 120); BadInput naming the variable when malformed.
std::chrono::milliseconds collective_timeout();

}  // namespace imsm::dist
