// Benchmark (not a test): whole epochs of training with the one training loop
// (train/trainer.h), IMSM(LoRA) against LoRA alone on the same data, with and
// without the frozen-memory cache (train/memory_cache.h), and the second seed
// of a seed matrix, which finds the first seed's cache file. One process; the
// configurations take turns, so a noisy machine slows them alike.
//
//   build/bin/bench_epochs [--examples 64] [--epochs 3] [--batch 4] [--seq 128] [--vocab 8000]
//                          [--shape small|1b] [--device cpu|cuda] [--dtype f32|bf16] [--rounds 1]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_model.h"
#include "model/loader.h"
#include "peft/peft_model.h"
#include "train/memory_cache.h"
#include "train/trainer.h"

namespace {

using imsm::bench::arg;
using imsm::bench::sarg;

struct Setup {
  std::string shape = "small";
  int64_t examples = 64, epochs = 3, batch = 4, seq = 128, vocab = 8000, rounds = 1;
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat32;
};

// Examples of seq/2 .. seq tokens, the first half of each the prompt.
std::vector<imsm::EncodedExample> make_data(const Setup& s) {
  std::mt19937 rng(7);
  std::vector<imsm::EncodedExample> data;
  for (int64_t i = 0; i < s.examples; ++i) {
    imsm::EncodedExample e;
    const int64_t length = s.seq / 2 + static_cast<int64_t>(rng() % static_cast<uint64_t>(s.seq / 2 + 1));
    e.query_len = length / 2;
    for (int64_t t = 0; t < length; ++t) {
      e.ids.push_back(static_cast<int32_t>(3 + rng() % static_cast<uint64_t>(s.vocab - 3)));
      e.labels.push_back(t < e.query_len ? -100 : e.ids.back());
    }
    data.push_back(std::move(e));
  }
  return data;
}

double now(const Setup& s) {
  if (s.device.is_cuda()) torch::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Trains `epochs` epochs from fresh adapters (seed `seed`); the seconds of each epoch.
std::vector<double> train(imsm::LlamaModel& model, const std::vector<imsm::EncodedExample>& data, const Setup& s, bool imsm_gate,
                          imsm::FrozenMemoryCache* cache, uint64_t seed) {
  imsm::PeftConfig pc;  // LoRA r = alpha = 16 on q_proj, v_proj (the paper's Llama set-up)
  pc.r = 16;
  pc.alpha = 16;
  auto adapters = imsm::PeftAdapters::attach(model, pc, seed);
  imsm::GateConfig gc;
  gc.hidden_size = model.config().hidden_size;
  const auto gate = imsm_gate ? std::make_unique<imsm::ImsmGate>(gc, s.device, imsm::gate_dtype(s.dtype), seed) : nullptr;
  imsm::SiameseTarget target(model, *adapters, gate.get());
  target.set_memory_cache(cache);
  imsm::TrainOptions options;
  options.num_epochs = s.epochs;
  options.batch_size = s.batch;
  options.seed = seed;
  imsm::Trainer trainer(target, data, options);
  const int64_t per_epoch = trainer.total_steps() / s.epochs;
  std::vector<double> ends = {now(s)};
  imsm::Hooks hooks;
  hooks.on_step = [&](const imsm::StepRecord& r) {
    if (r.step % per_epoch == 0) ends.push_back(now(s));
  };
  trainer.run(hooks);
  std::vector<double> epochs;
  for (size_t e = 1; e < ends.size(); ++e) epochs.push_back(ends[e] - ends[e - 1]);
  return epochs;
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

std::string epochs_text(const std::vector<double>& v) {
  std::string text;
  char cell[32];
  for (double x : v) {
    std::snprintf(cell, sizeof cell, "%s%.2f", text.empty() ? "" : " / ", x);
    text += cell;
  }
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  Setup s;
  s.shape = sarg(argc, argv, "--shape", "small");
  s.examples = arg(argc, argv, "--examples", 64);
  s.epochs = arg(argc, argv, "--epochs", 3);
  s.batch = arg(argc, argv, "--batch", 4);
  s.seq = arg(argc, argv, "--seq", 128);
  s.vocab = arg(argc, argv, "--vocab", 8000);
  s.rounds = arg(argc, argv, "--rounds", 1);
  s.device = torch::Device(sarg(argc, argv, "--device", "cpu"));
  s.dtype = sarg(argc, argv, "--dtype", "f32") == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  const auto config = imsm::bench::bench_config(s.shape, s.vocab);
  imsm::LoadOptions where;
  where.device = s.device;
  where.dtype = s.dtype;
  auto model = imsm::init_llama(config, 0, where);
  const auto data = make_data(s);
  const auto dir = std::filesystem::temp_directory_path() / ("bench-epochs-" + std::to_string(::getpid()));
  imsm::MemoryCacheOptions options;
  options.dtype = s.dtype;
  options.file = (dir / "original-memory.bin").string();
  const std::string fingerprint = imsm::model_fingerprint(*model);

  // Each round: LoRA, IMSM without the cache, IMSM with it (a fresh file), the next seed with that file.
  std::vector<std::vector<double>> lora, plain, cached, second;
  for (int64_t round = 0; round < s.rounds; ++round) {
    std::filesystem::remove_all(dir);
    lora.push_back(train(*model, data, s, false, nullptr, 1));
    plain.push_back(train(*model, data, s, true, nullptr, 1));
    {
      imsm::FrozenMemoryCache cache(fingerprint, config.hidden_size, options);
      cached.push_back(train(*model, data, s, true, &cache, 1));
    }
    imsm::FrozenMemoryCache warm(fingerprint, config.hidden_size, options);
    second.push_back(train(*model, data, s, true, &warm, 2));
    std::fprintf(stderr, "round %lld: %s\n", static_cast<long long>(round + 1), imsm::describe(warm.stats()).c_str());
  }
  std::filesystem::remove_all(dir);

  auto row = [&](const char* name, const std::vector<std::vector<double>>& runs) {
    std::vector<double> all, firsts;
    for (const auto& r : runs) all.insert(all.end(), r.begin(), r.end());
    std::vector<double> base;
    for (const auto& r : lora) base.insert(base.end(), r.begin(), r.end());
    std::printf("| %s | %s | %.2f s | %.3fx |\n", name, epochs_text(runs.back()).c_str(), mean(all), mean(all) / mean(base));
  };
  std::printf("| configuration (%.1fM-parameter Llama, %s %s, %lld examples of %lld..%lld tokens, batch %lld, LoRA r=16 on q,v, %lld round(s)) "
              "| seconds per epoch (last round) | mean epoch | vs LoRA |\n",
              config.num_parameters() / 1e6, s.dtype == torch::kFloat32 ? "fp32" : "bf16", s.device.is_cuda() ? "CUDA" : "CPU",
              static_cast<long long>(s.examples), static_cast<long long>(s.seq / 2), static_cast<long long>(s.seq),
              static_cast<long long>(s.batch), static_cast<long long>(s.rounds));
  std::printf("|---|---|---|---|\n");
  row("LoRA alone", lora);
  row("IMSM(LoRA), no cache", plain);
  row("IMSM(LoRA), frozen-memory cache (epoch 1 fills it)", cached);
  row("IMSM(LoRA), second seed (the first seed's cache file)", second);
  return 0;
}
