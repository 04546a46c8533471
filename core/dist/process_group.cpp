#include "dist/process_group.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef IMSM_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef IMSM_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "util/error.h"

namespace imsm::dist {

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  torch::Device device = torch::kCPU;  // where the backend's tensors live (NCCL: the rank's GPU)
};

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

[[noreturn]] void collective_failed(const Launch& l, const std::string& what, std::chrono::milliseconds timeout, const std::exception& e) {
  throw Error(ErrorKind::Internal, "rank " + std::to_string(l.rank) + " of " + std::to_string(l.world_size) + ": " + what +
                                       " failed: another process died or did not answer within " +
                                       std::to_string(timeout.count() / 1000) + " s (" + first_line(e.what()) + ")");
}

c10::intrusive_ptr<c10d::Backend> make_backend(const Launch& l, const c10::intrusive_ptr<c10d::Store>& store, torch::Device device,
                                               std::chrono::milliseconds timeout) {
  if (device.is_cuda()) {
#ifdef IMSM_WITH_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, l.rank, l.world_size, options);
#else
    throw_bad_input("device", "several processes on CUDA need NCCL, which this build of the engine does not have (a CUDA build of LibTorch does)");
#endif
  }
#ifdef IMSM_WITH_GLOO
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* host = std::getenv("GLOO_SOCKET_IFNAME");
  options->devices.push_back(host && *host ? c10d::ProcessGroupGloo::createDeviceForInterface(host)
                                           : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, l.rank, l.world_size, options);
#else
  throw_bad_input("device", "several processes on the CPU need Gloo, which this build of the engine lacks (install libgloo-dev and build again)");
#endif
}

}  // namespace

std::chrono::milliseconds collective_timeout() {
  const char* v = std::getenv("IMSM_DIST_TIMEOUT");
  if (v == nullptr || *v == '\0') return std::chrono::seconds(120);
  const std::string text(v);
  if (text.size() > 7 || text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) == 0)
    throw_bad_input("IMSM_DIST_TIMEOUT", "\"" + text + "\" is not a positive whole number of seconds");
  return std::chrono::seconds(std::stoi(text));
}

ProcessGroup::ProcessGroup(const Launch& launch, std::chrono::milliseconds timeout, std::unique_ptr<Impl> impl)
    : launch_(launch), timeout_(timeout), impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() = default;

std::unique_ptr<ProcessGroup> ProcessGroup::join(const Launch& l, torch::Device device, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(l.master_port);
    so.isServer = l.rank == 0 && !l.agent_store;  // under torchrun the agent serves the store
    so.numWorkers = l.world_size;
    so.waitWorkers = false;
    so.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(l.master_addr, so);
    // Each group of the process gets its own keys (a project joins once per training run and evaluation;
    // every rank joins in the same order, so the counters agree).
    static int groups = 0;
    impl->store = c10::make_intrusive<c10d::PrefixStore>("imsm/" + std::to_string(groups++) + "/", tcp);
    impl->backend = make_backend(l, impl->store, device, timeout);
    impl->device = device;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    collective_failed(l, "joining the process group at " + l.master_addr + ":" + std::to_string(l.master_port), timeout, e);
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(l, timeout, std::move(impl)));
}

void ProcessGroup::all_reduce_sum(torch::Tensor& t) {
  std::vector<at::Tensor> tensors = {t};
  try {
    impl_->backend->allreduce(tensors)->wait(timeout_);
  } catch (const std::exception& e) {
    collective_failed(launch_, "all-reduce", timeout_, e);
  }
}

std::vector<std::string> ProcessGroup::all_gather(const std::string& bytes) {
  const int n = size();
  try {
    // The lengths first, then every rank's bytes padded to the longest.
    const auto on = [&](torch::ScalarType t) { return torch::TensorOptions().dtype(t).device(impl_->device); };
    std::vector<at::Tensor> length = {torch::full({1}, static_cast<int64_t>(bytes.size()), on(torch::kInt64))};
    std::vector<std::vector<at::Tensor>> lengths(1);
    for (int r = 0; r < n; ++r) lengths[0].push_back(torch::zeros({1}, on(torch::kInt64)));
    impl_->backend->allgather(lengths, length)->wait(timeout_);
    std::vector<int64_t> sizes;
    for (const auto& l : lengths[0]) sizes.push_back(l.item<int64_t>());
    const int64_t longest = std::max<int64_t>(1, *std::max_element(sizes.begin(), sizes.end()));
    torch::Tensor padded = torch::zeros({longest}, torch::kUInt8);  // [longest] this rank's bytes, then zeros
    std::memcpy(padded.data_ptr(), bytes.data(), bytes.size());
    std::vector<at::Tensor> mine = {padded.to(impl_->device)};
    std::vector<std::vector<at::Tensor>> all(1);
    for (int r = 0; r < n; ++r) all[0].push_back(torch::zeros({longest}, on(torch::kUInt8)));
    impl_->backend->allgather(all, mine)->wait(timeout_);
    std::vector<std::string> out;
    for (int r = 0; r < n; ++r) {
      const torch::Tensor got = all[0][r].cpu();
      out.emplace_back(static_cast<const char*>(got.data_ptr()), static_cast<size_t>(sizes[static_cast<size_t>(r)]));
    }
    return out;
  } catch (const std::exception& e) {
    collective_failed(launch_, "all-gather", timeout_, e);
  }
}

void ProcessGroup::barrier() {
  try {
    impl_->backend->barrier()->wait(timeout_);
  } catch (const std::exception& e) {
    collective_failed(launch_, "barrier", timeout_, e);
  }
}

std::string from_writer(ProcessGroup& group, const std::string& bytes) { return group.all_gather(bytes).front(); }

bool any_rank_aborted(ProcessGroup* group, const Hooks& hooks) {
  const bool mine = hooks.aborted();
  if (group == nullptr) return mine;
  for (const std::string& vote : group->all_gather(mine ? "1" : "0"))
    if (vote == "1") return true;
  return false;
}

}  // namespace imsm::dist
