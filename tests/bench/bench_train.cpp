// Benchmark (not a test): one training step of IMSM(LoRA) against LoRA alone
// on the same model and batch: step time and peak memory (RSS), and IMSM with
// one shared base copy against two copies as the official code loads them,
// the chunked LM head + loss (train/chunked_loss.h) against the whole
// batch's logits, and activation checkpointing (model/checkpoint.h) on top. Each configuration runs in its own process so that peak RSS
// is its own. Beside each measured peak, the engine's estimate (train/memory_estimate.h)
// of what the run adds to the process it starts in (peak RSS − RSS before the model).
// On CUDA the peak is the caching allocator's peak of allocated bytes.
//
//   build/bin/bench_train [--steps 6] [--batch 4] [--seq 128] [--vocab 8000]
//                         [--shape small|1b] [--device cpu|cuda] [--dtype f32|bf16] [--modes lora,imsm,...]
//
// --shape 1b is Llama 3.2 1B's shape (16 layers, hidden 2048, GQA 32/8, SwiGLU
// 8192, vocabulary 128,256, tied embeddings: 1.24B parameters), random weights.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_model.h"
#include "util/process.h"
#include "imsm/siamese.h"
#include "train/chunked_loss.h"
#include "train/memory_estimate.h"
#include "model/cuda_device.h"
#include "model/loader.h"
#include "peft/peft_model.h"
#include "train/optimizer.h"
#include "train/trainer.h"

extern char** environ;

namespace {

using imsm::bench::arg;
using imsm::bench::sarg;
using imsm::bench::bench_config;

// What one configuration runs on.
struct Setup {
  std::string shape = "small";
  int64_t steps = 6, batch = 4, seq = 128, vocab = 8000;
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
  bool cuda() const { return device.is_cuda(); }
};

// The resident set now (VmRSS), MiB; 0 where /proc does not say.
double rss_mib() { return static_cast<double>(std::max<int64_t>(0, imsm::resident_bytes())) / (1024.0 * 1024.0); }

// The estimate of a mode's run (0 for the official two-copy layout, which the engine does not run).
double estimate_mib(const std::string& mode, const imsm::ModelConfig& config, const Setup& setup) {
  if (mode == "imsm-two-copies") return 0;
  imsm::MemoryPlan plan;
  plan.model = config;
  plan.peft.r = 16;
  plan.imsm = mode.rfind("lora", 0) != 0;
  plan.gate_parameters = plan.imsm ? imsm::gate_parameters(imsm::GateVariant::Query, 8, config.hidden_size) : 0;
  plan.batch_size = setup.batch;
  plan.sequence_length = setup.seq;
  plan.weight_bytes = plan.activation_bytes = setup.dtype == torch::kFloat32 ? 4 : 2;
  plan.checkpointing = mode.find("-checkpointed") != std::string::npos;
  plan.loss_chunk = plan.checkpointing || mode.find("-chunked") != std::string::npos ? 1024 : 0;
  const imsm::MemoryEstimate e = imsm::estimate_memory(plan);
  // On CUDA the allocator's peak has no process runtime (RSS's kernels and thread pools) in it.
  const double runtime = setup.cuda() ? e.parts.back().bytes : 0;
  return (e.training_bytes - runtime) / (1024.0 * 1024.0);
}

double now_seconds(const Setup& setup) {
  if (setup.cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs one configuration; prints "median_step_seconds rss_before_model_mib cuda_peak_mib".
int run_one(const std::string& mode, const Setup& setup) {
  const double start_mib = rss_mib();
  const auto config = bench_config(setup.shape, setup.vocab);
  const bool checkpointing = mode.find("-checkpointed") != std::string::npos;
  const bool chunked = checkpointing || mode.find("-chunked") != std::string::npos;
  imsm::LoadOptions where;
  where.device = setup.device;
  where.dtype = setup.dtype;
  auto model = imsm::init_llama(config, 0, where);
  std::unique_ptr<imsm::LlamaModel> copy;
  if (mode == "imsm-two-copies") copy = imsm::init_llama(config, 0, where);  // a second, separate copy of W0
  const bool top_half = mode.find("-top") != std::string::npos;
  imsm::PeftConfig pc;  // LoRA r = alpha = 16 on q_proj, v_proj (the paper's Llama set-up)
  pc.r = 16;
  pc.alpha = 16;
  for (int64_t l = config.num_hidden_layers / 2; top_half && l < config.num_hidden_layers; ++l) pc.layers_to_transform.push_back(l);
  auto adapters = imsm::PeftAdapters::attach(*model, pc, 1);
  model->set_gradient_checkpointing(checkpointing);
  adapters->set_training(true);
  imsm::GateConfig gc;
  gc.hidden_size = config.hidden_size;
  const auto gate = mode.rfind("lora", 0) == 0 ? nullptr
                                                : std::make_unique<imsm::ImsmGate>(gc, setup.device, imsm::gate_dtype(setup.dtype), 2);
  if (gate) gate->set_training(true);
  const imsm::SiameseTarget target(*model, *adapters, gate.get());
  auto optimizer = imsm::make_optimizer(imsm::OptimizerKind::AdamW, target.parameters(), 0.0);
  const torch::Tensor ids = torch::randint(3, config.vocab_size, {setup.batch, setup.seq}, torch::kInt64).to(setup.device);  // [B, T]
  const torch::Tensor labels = ids.clone();                                                                                   // [B, T]
  const torch::Tensor query_len = torch::full({setup.batch}, setup.seq / 2, torch::kInt64).to(setup.device);                  // [B]
  std::vector<double> times;
  for (int64_t s = 0; s <= setup.steps; ++s) {
    const double t0 = now_seconds(setup);
    optimizer->zero_grad();
    const imsm::SiameseBatch b{ids, torch::Tensor(), query_len};
    if (chunked) {
      imsm::chunked_causal_lm_loss(imsm::siamese_memory(*model, gate.get(), b).h_N, model->lm_head_weight(), labels, 1024).backward();
    } else {
      // imsm-top-unshared: the model as its own "copy" (that path never shares the layers below the adapters).
      const imsm::LlamaModel* original = mode == "imsm-top-unshared" ? model.get() : copy.get();
      imsm::causal_lm_loss(imsm::siamese_forward(*model, gate.get(), b, original).logits, labels).backward();
    }
    optimizer->step(1e-4);
    if (s > 0 || setup.steps == 0) times.push_back(now_seconds(setup) - t0);  // step 0: warm-up (measured when it is the only one)
  }
  std::sort(times.begin(), times.end());
  const double cuda_peak_mib = setup.cuda() ? static_cast<double>(imsm::cuda_peak_allocated_bytes(setup.device.index() < 0 ? 0 : setup.device.index())) / (1024.0 * 1024.0) : 0;
  std::printf("%.6f %.1f %.1f\n", times[times.size() / 2], start_mib, cuda_peak_mib);
  return 0;
}

struct Measured {
  double step_seconds = 0;
  double peak_mib = 0;   // CPU: peak RSS; CUDA: the allocator's peak
  double start_mib = 0;  // before the model (CUDA: 0)
};

Measured spawn(const char* self, const std::string& mode, int argc, char** argv, const Setup& setup) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<const char*> child = {self, "--mode", mode.c_str()};  // the parent's flags, then the mode
  for (int i = 1; i < argc; ++i) child.push_back(argv[i]);
  child.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn(&pid, self, &actions, nullptr, const_cast<char**>(child.data()), environ);
  ::close(fds[1]);
  char buf[128] = {0};
  const ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  posix_spawn_file_actions_destroy(&actions);
  Measured m;
  double cuda_peak = 0;
  if (n > 0) std::sscanf(buf, "%lf %lf %lf", &m.step_seconds, &m.start_mib, &cuda_peak);
  m.peak_mib = setup.cuda() ? cuda_peak : usage.ru_maxrss / 1024.0;
  if (setup.cuda()) m.start_mib = 0;
  if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) m = {};  // failed (out of memory): an empty row
  return m;
}

// Each configuration's mode and row; the first, LoRA alone, is what the ratios are against.
const std::vector<std::pair<std::string, std::string>> kConfigurations = {
    {"lora", "LoRA alone"},
    {"imsm", "IMSM(LoRA), one shared base copy"},
    {"imsm-two-copies", "IMSM(LoRA), two base copies (official layout)"},
    {"lora-chunked", "LoRA alone, chunked head + loss (1,024 positions)"},
    {"imsm-chunked", "IMSM(LoRA), chunked head + loss (1,024 positions)"},
    {"lora-checkpointed", "LoRA alone, chunked + activation checkpointing"},
    {"imsm-checkpointed", "IMSM(LoRA), chunked + activation checkpointing"},
    {"lora-top", "LoRA alone on the top half of the layers"},
    {"imsm-top", "IMSM(LoRA) on the top half, lower layers shared"},
    {"imsm-top-unshared", "IMSM(LoRA) on the top half, each stream all layers"}};

Setup parse_setup(int argc, char** argv) {
  Setup s;
  s.shape = sarg(argc, argv, "--shape", "small");
  s.steps = arg(argc, argv, "--steps", 6);
  s.batch = arg(argc, argv, "--batch", 4);
  s.seq = arg(argc, argv, "--seq", 128);
  s.vocab = arg(argc, argv, "--vocab", 8000);
  s.device = torch::Device(sarg(argc, argv, "--device", "cpu"));
  s.dtype = sarg(argc, argv, "--dtype", "f32") == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const Setup setup = parse_setup(argc, argv);
  const std::string mode = sarg(argc, argv, "--mode", "");
  if (!mode.empty()) return run_one(mode, setup);

  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  std::string wanted = ",";  // appended, not "," + ... + ",": GCC 12's -Wstringop-overflow misfires on that one
  wanted += sarg(argc, argv, "--modes", "lora,imsm,imsm-two-copies,lora-chunked,imsm-chunked,lora-checkpointed,imsm-checkpointed,lora-top,imsm-top,imsm-top-unshared");
  wanted += ",";
  std::vector<std::pair<std::string, std::string>> configurations;
  for (const auto& c : kConfigurations)
    if (wanted.find("," + c.first + ",") != std::string::npos) configurations.push_back(c);
  if (configurations.empty()) {
    std::fprintf(stderr, "bench_train: --modes names none of: lora, imsm, imsm-two-copies, lora-chunked, imsm-chunked, lora-checkpointed, "
                         "imsm-checkpointed, lora-top, imsm-top, imsm-top-unshared\n");
    return 2;
  }
  std::vector<Measured> measured;
  for (const auto& c : configurations) measured.push_back(spawn(self, c.first, argc, argv, setup));
  const auto c = bench_config(setup.shape, setup.vocab);
  const char* peak = setup.cuda() ? "peak allocated" : "peak RSS";
  std::printf("| configuration (%.1fM-parameter Llama, %s %s, batch %lld x %lld tokens, LoRA r=16 on q,v) | step time | %s | "
              "added by the run | estimate | estimate / added |\n",
              c.num_parameters() / 1e6, setup.dtype == torch::kFloat32 ? "fp32" : "bf16", setup.cuda() ? "CUDA" : "CPU",
              static_cast<long long>(setup.batch), static_cast<long long>(setup.seq), peak);
  std::printf("|---|---|---|---|---|---|\n");
  // Ratios against LoRA alone on the same layers: the first row, or lora-top for the top-half rows.
  auto base_of = [&](size_t k) -> const Measured& {
    const bool top = configurations[k].first.find("-top") != std::string::npos;
    for (size_t i = 0; i < configurations.size(); ++i)
      if (top && configurations[i].first == "lora-top" && measured[i].step_seconds > 0) return measured[i];
    return measured.front();
  };
  for (size_t k = 0; k < measured.size(); ++k) {
    const Measured& m = measured[k];
    const Measured& lora = base_of(k);
    const double estimate = estimate_mib(configurations[k].first, c, setup);
    if (m.step_seconds <= 0) {
      std::printf("| %s | failed (out of memory?) | — | — | %.0f MiB | — |\n", configurations[k].second.c_str(), estimate);
      continue;
    }
    const double added = m.peak_mib - m.start_mib;
    std::printf("| %s | %.3f s (%.2fx) | %.0f MiB (%.2fx) | %.0f MiB | ", configurations[k].second.c_str(), m.step_seconds,
                m.step_seconds / lora.step_seconds, m.peak_mib, m.peak_mib / lora.peak_mib, added);
    if (estimate > 0) std::printf("%.0f MiB | %.2f |\n", estimate, estimate / added);
    else std::printf("— | — |\n");
  }
  std::printf("(vocabulary %lld)\n", static_cast<long long>(c.vocab_size));
  return 0;
}
