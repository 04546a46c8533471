// Benchmark (not a test): one training step of IMSM(LoRA) against LoRA alone
// on the same model and batch: step time and peak memory (RSS), and IMSM with
// one shared base copy against two copies as the official code loads them,
// the chunked LM head + loss (train/chunked_loss.h) against the whole
// batch's logits, and activation checkpointing (model/checkpoint.h) on top. Each configuration runs in its own process so that peak RSS
// is its own.
//
//   build/bin/bench_train [--steps 6] [--batch 4] [--seq 128] [--vocab 8000]
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
#include "imsm/siamese.h"
#include "train/chunked_loss.h"
#include "model/loader.h"
#include "peft/peft_model.h"
#include "train/optimizer.h"
#include "train/trainer.h"

extern char** environ;

namespace {

using imsm::bench::arg;
using imsm::bench::sarg;

// ~28M parameters: 8 layers, hidden 512, GQA 8/4 heads, SwiGLU 1376, 8k vocab (or `vocab`: Llama 3's is 128,256).
imsm::ModelConfig bench_config(int64_t vocab) {
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 512}, {"intermediate_size", 1376},
                            {"num_attention_heads", 8}, {"num_key_value_heads", 4}, {"num_hidden_layers", 8},
                            {"vocab_size", vocab}, {"max_position_embeddings", 2048}};
  return imsm::parse_model_config(j, "bench");
}

// Runs one configuration; prints "median_step_seconds".
int run_one(const std::string& mode, int64_t steps, int64_t batch, int64_t seq, int64_t vocab) {
  const auto config = bench_config(vocab);
  const bool checkpointing = mode.find("-checkpointed") != std::string::npos;
  const bool chunked = checkpointing || mode.find("-chunked") != std::string::npos;
  auto model = imsm::init_llama(config, 0);
  std::unique_ptr<imsm::LlamaModel> copy;
  if (mode == "imsm-two-copies") copy = imsm::init_llama(config, 0);  // a second, separate copy of W0
  imsm::PeftConfig pc;  // LoRA r = alpha = 16 on q_proj, v_proj (the paper's Llama set-up)
  pc.r = 16;
  pc.alpha = 16;
  auto adapters = imsm::PeftAdapters::attach(*model, pc, 1);
  model->set_gradient_checkpointing(checkpointing);
  adapters->set_training(true);
  imsm::GateConfig gc;
  gc.hidden_size = config.hidden_size;
  const auto gate = mode.rfind("lora", 0) == 0 ? nullptr : std::make_unique<imsm::ImsmGate>(gc, torch::kCPU, torch::kFloat32, 2);
  if (gate) gate->set_training(true);
  const imsm::SiameseTarget target(*model, *adapters, gate.get());
  auto optimizer = imsm::make_optimizer("adamw", target.parameters(), 0.0);
  const torch::Tensor ids = torch::randint(3, config.vocab_size, {batch, seq}, torch::kInt64);
  const torch::Tensor labels = ids.clone();
  const torch::Tensor query_len = torch::full({batch}, seq / 2, torch::kInt64);
  std::vector<double> times;
  for (int64_t s = 0; s <= steps; ++s) {
    const auto t0 = std::chrono::steady_clock::now();
    optimizer->zero_grad();
    const imsm::SiameseBatch b{ids, torch::Tensor(), query_len};
    if (chunked) {
      imsm::chunked_causal_lm_loss(imsm::siamese_memory(*model, gate.get(), b).h_N, model->lm_head_weight(), labels, 1024).backward();
    } else {
      imsm::causal_lm_loss(imsm::siamese_forward(*model, gate.get(), b, copy.get()).logits, labels).backward();
    }
    optimizer->step(1e-4);
    if (s > 0) times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());  // step 0: warm-up
  }
  std::sort(times.begin(), times.end());
  std::printf("%.6f\n", times[times.size() / 2]);
  return 0;
}

struct Measured {
  double step_seconds = 0;
  double peak_mib = 0;
};

Measured spawn(const char* self, const std::string& mode, int64_t steps, int64_t batch, int64_t seq, int64_t vocab) {
  int fds[2];
  if (::pipe(fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  const std::string s = std::to_string(steps), b = std::to_string(batch), q = std::to_string(seq), v = std::to_string(vocab);
  std::vector<const char*> argv = {self, "--mode", mode.c_str(), "--steps", s.c_str(), "--batch", b.c_str(), "--seq", q.c_str(), "--vocab", v.c_str(), nullptr};
  pid_t pid = 0;
  posix_spawn(&pid, self, &actions, nullptr, const_cast<char**>(argv.data()), environ);
  ::close(fds[1]);
  char buf[128] = {0};
  const ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  posix_spawn_file_actions_destroy(&actions);
  return {n > 0 ? std::atof(buf) : 0.0, usage.ru_maxrss / 1024.0};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t steps = arg(argc, argv, "--steps", 6), batch = arg(argc, argv, "--batch", 4), seq = arg(argc, argv, "--seq", 128),
                vocab = arg(argc, argv, "--vocab", 8000);
  const std::string mode = sarg(argc, argv, "--mode", "");
  if (!mode.empty()) return run_one(mode, steps, batch, seq, vocab);

  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) return 1;
  self[len] = '\0';
  // Each configuration's mode and row; the first, LoRA alone, is what the ratios are against.
  const std::vector<std::pair<const char*, const char*>> configurations = {
      {"lora", "LoRA alone"},
      {"imsm", "IMSM(LoRA), one shared base copy"},
      {"imsm-two-copies", "IMSM(LoRA), two base copies (official layout)"},
      {"lora-chunked", "LoRA alone, chunked head + loss (1,024 positions)"},
      {"imsm-chunked", "IMSM(LoRA), chunked head + loss (1,024 positions)"},
      {"lora-checkpointed", "LoRA alone, chunked + activation checkpointing"},
      {"imsm-checkpointed", "IMSM(LoRA), chunked + activation checkpointing"}};
  std::vector<Measured> measured;
  for (const auto& [mode_name, label] : configurations) measured.push_back(spawn(self, mode_name, steps, batch, seq, vocab));
  const auto c = bench_config(vocab);
  std::printf("| configuration (%.1fM-parameter Llama, fp32 CPU, batch %lld x %lld tokens, LoRA r=16 on q,v) | step time | peak RSS |\n",
              c.num_parameters() / 1e6, static_cast<long long>(batch), static_cast<long long>(seq));
  std::printf("|---|---|---|\n");
  const Measured& lora = measured.front();
  std::printf("| %s | %.3f s | %.0f MiB |\n", configurations.front().second, lora.step_seconds, lora.peak_mib);
  for (size_t k = 1; k < measured.size(); ++k)
    std::printf("| %s | %.3f s (%.2fx) | %.0f MiB (%.2fx) |\n", configurations[k].second, measured[k].step_seconds,
                measured[k].step_seconds / lora.step_seconds, measured[k].peak_mib, measured[k].peak_mib / lora.peak_mib);
  std::printf("(vocabulary %lld)\n", static_cast<long long>(vocab));
  return 0;
}
