// Benchmark (not a test): decode tokens/s with and without the KV cache,
// prefill tokens/s, for a random ~100M-parameter Llama (CPU fp32 by default),
// and the GFLOP/s of one 1024x1024 matmul on the device. Prints a Markdown table.
//
//   build/bin/bench_decode [--prompt 128] [--new 64] [--new-nocache 16] [--threads N]
//                          [--device cpu|cuda|cuda:N] [--dtype f32|bf16|f16]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_args.h"
#include "model/blas_check.h"
#include "model/device.h"
#include "model/generate.h"
#include "model/loader.h"

namespace {

using imsm::bench::arg;
using imsm::bench::sarg;
using imsm::bench::seconds_since;

// 2·n³ flops per n×n matmul, best of several runs (synchronised on CUDA).
double blas_gflops(int64_t n, torch::Device device, torch::ScalarType dtype) {
  torch::NoGradGuard g;
  const auto opts = torch::TensorOptions().device(device).dtype(dtype);
  const torch::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
  torch::Tensor c = torch::matmul(a, b);  // warm-up
  auto sync = [&] { if (device.is_cuda()) torch::cuda::synchronize(device.index()); };
  sync();
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    c = torch::matmul(a, b);
    sync();
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * n * n * n / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t prompt_len = arg(argc, argv, "--prompt", 128);
  const int64_t new_tokens = arg(argc, argv, "--new", 64);
  const int64_t new_nocache = arg(argc, argv, "--new-nocache", 16);
  const int64_t threads = arg(argc, argv, "--threads", 0);
  if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
  imsm::LoadOptions load;
  load.device = imsm::parse_device(sarg(argc, argv, "--device", "cpu"));
  load.dtype = imsm::parse_dtype(sarg(argc, argv, "--dtype", "f32"));

  // ~100M parameters: 12 layers, hidden 768, GQA 12/4 heads, SwiGLU 2048, tied 32k vocab.
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 768}, {"intermediate_size", 2048},
                            {"num_attention_heads", 12}, {"num_key_value_heads", 4}, {"num_hidden_layers", 12},
                            {"vocab_size", 32000}, {"tie_word_embeddings", true}, {"max_position_embeddings", 2048}};
  const imsm::ModelConfig config = imsm::parse_model_config(j, "bench");
  const auto model = imsm::init_llama(config, 0, load);

  std::vector<int32_t> prompt;
  for (int64_t i = 0; i < prompt_len; ++i) prompt.push_back(static_cast<int32_t>((i * 7919) % 32000));
  imsm::GenerateOptions opt;  // greedy, no EOS: always the full length
  opt.max_new_tokens = 2;
  imsm::generate(*model, {prompt}, opt);  // warm-up

  opt.max_new_tokens = new_tokens;
  const auto cached = imsm::generate(*model, {prompt}, opt);
  opt.max_new_tokens = new_nocache;
  opt.use_cache = false;
  const auto uncached = imsm::generate(*model, {prompt}, opt);

  const double gflops = blas_gflops(1024, load.device, load.dtype);
  std::printf("| what | value |\n|---|---|\n");
  std::printf("| model | Llama, %.1fM parameters, %s, %s, %d CPU threads |\n", config.num_parameters() / 1e6,
              imsm::dtype_label(load.dtype).c_str(), load.device.str().c_str(), torch::get_num_threads());
  std::printf("| BLAS | %s |\n", imsm::blas_library().c_str());
  std::printf("| %s 1024x1024 matmul (%s) | %.1f GFLOP/s |\n", imsm::dtype_label(load.dtype).c_str(), load.device.str().c_str(), gflops);
  std::printf("| prefill (%lld-token prompt, batch 1) | %.1f tokens/s |\n", static_cast<long long>(prompt_len),
              prompt_len / cached.prefill_seconds);
  std::printf("| decode with KV cache (%lld tokens after the prompt) | %.1f tokens/s |\n",
              static_cast<long long>(cached.decode_steps), cached.decode_steps / cached.decode_seconds);
  std::printf("| decode without cache (%lld tokens, full recompute) | %.1f tokens/s |\n",
              static_cast<long long>(uncached.decode_steps), uncached.decode_steps / uncached.decode_seconds);
  std::printf("| cache speed-up | %.1fx |\n",
              (cached.decode_steps / cached.decode_seconds) / (uncached.decode_steps / uncached.decode_seconds));
  return 0;
}
