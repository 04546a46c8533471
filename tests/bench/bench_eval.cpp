// Benchmark (not a test): IMSM evaluation throughput of the engine's batched,
// cached generator against the official algorithm (batch 1, both models
// recompute the whole sequence at every step; that loop lives only here), and
// IMSM decode tokens/s against the PEFT method alone on the same model.
//
//   build/bin/bench_eval [--examples 16] [--official-examples 2] [--new 128] [--prompt 48] [--batch 16]
//                        [--hidden 256] [--layers 4] [--vocab 8000] [--ratio-reps 5]
// --official-examples 0 skips the throughput part (for the decode ratio on a large model).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_args.h"
#include "imsm/imsm_generate.h"
#include "model/generate.h"
#include "model/loader.h"
#include "peft/peft_model.h"

namespace {

using imsm::bench::arg;
using imsm::bench::sarg;
using imsm::bench::seconds_since;

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
  // Default ~7M parameters: 4 layers, hidden 256, GQA 8/4, SwiGLU 688, 8k vocabulary.
  const int64_t hidden = arg(argc, argv, "--hidden", 256), layers = arg(argc, argv, "--layers", 4), vocab = arg(argc, argv, "--vocab", 8000);
  const int64_t ratio_reps = arg(argc, argv, "--ratio-reps", 5);
  const int64_t heads = std::max<int64_t>(1, hidden / 64), intermediate = (hidden * 8 / 3 + 15) / 16 * 16;
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", hidden}, {"intermediate_size", hidden == 256 ? 688 : intermediate},
                            {"num_attention_heads", hidden == 256 ? 8 : heads}, {"num_key_value_heads", hidden == 256 ? 4 : std::max<int64_t>(1, heads / 2)},
                            {"num_hidden_layers", layers}, {"vocab_size", vocab}, {"max_position_embeddings", 1024}};
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
    for (int64_t t = 0; t < prompt_len - (e % 8); ++t) p.push_back(static_cast<int32_t>(3 + (e * 131 + t * 7919) % (vocab - 10)));
    prompts.push_back(p);
  }
  imsm::GenerateOptions opt;  // greedy, no EOS: every example runs the full length
  opt.max_new_tokens = new_tokens;

  std::printf("| what (%.1fM-parameter Llama, LoRA r=16 on q,v, gate rank 8, fp32 CPU, %lld-token prompts, %lld new tokens) | value |\n",
              config.num_parameters() / 1e6, static_cast<long long>(prompt_len), static_cast<long long>(new_tokens));
  std::printf("|---|---|\n");
  if (official_examples > 0) {
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
    std::printf("| engine: batched (%lld), cached, both streams in one batch | %.3f examples/s |\n", static_cast<long long>(batch), engine_rate);
    std::printf("| official algorithm: batch 1, both models recompute every step | %.4f examples/s (%lld examples; same tokens: %lld/%lld) |\n",
                official_rate, static_cast<long long>(official_examples), static_cast<long long>(agree), static_cast<long long>(official_examples));
    std::printf("| speed-up | %.1fx |\n", engine_rate / official_rate);
  }

  // Decode tokens/s, IMSM against the PEFT method alone, at batch 1 and at
  // `batch`: pairs in alternating order (so warm-up and drift hit both), the
  // median of the per-pair ratios.
  for (const int64_t rows : {int64_t{1}, batch}) {
    const std::vector<std::vector<int32_t>> input(prompts.begin(), prompts.begin() + std::min(rows, examples));
    std::vector<double> ratios, imsm_rates, peft_rates;
    auto rate = [&](bool with_gate) {
      std::unique_ptr<imsm::DecodeStep> step;
      if (with_gate) step = std::make_unique<imsm::ImsmStep>(*model, gate, true);
      else step = std::make_unique<imsm::ModelStep>(*model, true);
      const auto out = imsm::generate(*step, input, opt);
      return static_cast<double>(out.decode_steps) * static_cast<double>(input.size()) / out.decode_seconds;
    };
    rate(true);  // warm-up
    for (int64_t r = 0; r < ratio_reps; ++r) {
      const bool imsm_first = r % 2 == 0;
      const double first = rate(imsm_first), second = rate(!imsm_first);
      const double imsm_tps = imsm_first ? first : second, peft_tps = imsm_first ? second : first;
      imsm_rates.push_back(imsm_tps);
      peft_rates.push_back(peft_tps);
      ratios.push_back(imsm_tps / peft_tps);
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("| decode at batch %lld: IMSM / PEFT alone (median of %lld alternating pairs; ratios %.2f-%.2f) | %.1f / %.1f tokens/s = %.2f |\n",
                static_cast<long long>(input.size()), static_cast<long long>(ratio_reps), *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()), median(imsm_rates), median(peft_rates), median(ratios));
  }
  return 0;
}
