// Benchmark (not a test): IMSM evaluation throughput of the engine's batched,
// cached generator against the official algorithm (batch 1, both models
// recompute the whole sequence at every step; that loop lives only here), and
// IMSM decode tokens/s against the PEFT method alone on the same model.
//
//   build/bin/bench_eval [--examples 16] [--official-examples 2] [--new 128] [--prompt 48] [--batch 16]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "imsm/imsm_generate.h"
#include "model/generate.h"
#include "model/loader.h"
#include "peft/peft_model.h"

namespace {

int64_t arg(int argc, char** argv, const char* name, int64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::stoll(argv[i + 1]);
  return fallback;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The official loop: for every new token, the tuned and the frozen model each
// run the whole sequence; the gate mixes their last hidden states.
std::vector<int32_t> official_generate(const imsm::LlamaModel& model, const imsm::ImsmGate& gate,
                                       const std::vector<int32_t>& prompt, int64_t new_tokens) {
  torch::NoGradGuard g;
  std::vector<int64_t> seq(prompt.begin(), prompt.end());
  std::vector<int32_t> out;
  const int64_t query = static_cast<int64_t>(prompt.size());
  for (int64_t step = 0; step < new_tokens; ++step) {
    imsm::ForwardInput in;
    in.input_ids = torch::tensor(seq).view({1, -1});
    const torch::Tensor h_Mp = model.forward_hidden(in);  // [1, T, d] tuned model
    in.adapter_rows.enabled = false;
    const torch::Tensor h_M = model.forward_hidden(in);   // [1, T, d] frozen model
    const torch::Tensor q_M = h_M.narrow(1, 0, query).mean(1), q_Mp = h_Mp.narrow(1, 0, query).mean(1);  // [1, d]
    const int64_t T = h_M.size(1);
    const torch::Tensor h_N = gate.mix(h_M.narrow(1, T - 1, 1), h_Mp.narrow(1, T - 1, 1), q_M, q_Mp);    // [1, 1, d]
    const int32_t next = static_cast<int32_t>(model.lm_head(h_N).argmax(-1).item<int64_t>());
    out.push_back(next);
    seq.push_back(next);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t examples = arg(argc, argv, "--examples", 16), official_examples = arg(argc, argv, "--official-examples", 2);
  const int64_t new_tokens = arg(argc, argv, "--new", 128), prompt_len = arg(argc, argv, "--prompt", 48), batch = arg(argc, argv, "--batch", 16);
  // ~7M parameters: 4 layers, hidden 256, GQA 8/4, SwiGLU 688, 8k vocabulary.
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 256}, {"intermediate_size", 688},
                            {"num_attention_heads", 8}, {"num_key_value_heads", 4}, {"num_hidden_layers", 4},
                            {"vocab_size", 8000}, {"max_position_embeddings", 1024}};
  const auto config = imsm::parse_model_config(j, "bench");
  auto model = imsm::init_llama(config, 0);
  imsm::PeftConfig pc;
  pc.r = 16;
  pc.alpha = 16;
  auto adapters = imsm::PeftAdapters::attach(*model, pc, 1);
  {
    torch::NoGradGuard g;
    for (auto& [name, t] : adapters->named_parameters()) t->normal_(0.0, 0.02);  // a trained-looking adapter
  }
  imsm::GateConfig gc;
  gc.hidden_size = config.hidden_size;
  const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 2);

  std::vector<std::vector<int32_t>> prompts;
  for (int64_t e = 0; e < examples; ++e) {
    std::vector<int32_t> p;
    for (int64_t t = 0; t < prompt_len - (e % 8); ++t) p.push_back(static_cast<int32_t>(3 + (e * 131 + t * 7919) % 7990));
    prompts.push_back(p);
  }
  imsm::GenerateOptions opt;  // greedy, no EOS: every example runs the full length
  opt.max_new_tokens = new_tokens;

  // Engine: batched, cached, both streams in one batch.
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> engine_tokens;
  for (int64_t s = 0; s < examples; s += batch) {
    imsm::ImsmStep step(*model, gate, true);
    const auto out = imsm::generate(step, {prompts.begin() + s, prompts.begin() + std::min(examples, s + batch)}, opt);
    engine_tokens.insert(engine_tokens.end(), out.tokens.begin(), out.tokens.end());
  }
  const double engine_rate = static_cast<double>(examples) / seconds_since(t0);

  // Official algorithm on the first few examples (it is slow).
  t0 = std::chrono::steady_clock::now();
  int64_t agree = 0;
  for (int64_t e = 0; e < official_examples; ++e) agree += official_generate(*model, gate, prompts[e], new_tokens) == engine_tokens[e];
  const double official_rate = static_cast<double>(official_examples) / seconds_since(t0);

  // Decode tokens/s at batch 1: IMSM against the PEFT method alone.
  imsm::ImsmStep imsm_step(*model, gate, true);
  const auto imsm_out = imsm::generate(imsm_step, {prompts[0]}, opt);
  imsm::ModelStep peft_step(*model, true);
  const auto peft_out = imsm::generate(peft_step, {prompts[0]}, opt);
  const double imsm_tps = imsm_out.decode_steps / imsm_out.decode_seconds, peft_tps = peft_out.decode_steps / peft_out.decode_seconds;

  std::printf("| what (%.1fM-parameter Llama, LoRA r=16 on q,v, gate rank 8, fp32 CPU, %lld-token prompts, %lld new tokens) | value |\n",
              config.num_parameters() / 1e6, static_cast<long long>(prompt_len), static_cast<long long>(new_tokens));
  std::printf("|---|---|\n");
  std::printf("| engine: batched (%lld), cached, both streams in one batch | %.3f examples/s |\n", static_cast<long long>(batch), engine_rate);
  std::printf("| official algorithm: batch 1, both models recompute every step | %.4f examples/s (%lld examples; same tokens: %lld/%lld) |\n",
              official_rate, static_cast<long long>(official_examples), static_cast<long long>(agree), static_cast<long long>(official_examples));
  std::printf("| speed-up | %.1fx |\n", engine_rate / official_rate);
  std::printf("| decode at batch 1: IMSM / PEFT alone | %.1f / %.1f tokens/s = %.2f |\n", imsm_tps, peft_tps, imsm_tps / peft_tps);
  return 0;
}
