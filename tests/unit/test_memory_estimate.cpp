// The memory estimate (train/memory_estimate.h): its parameter counts against
// the adapters and gates the engine really builds, the published size of
// Llama 3 8B, and the issue's goals on it (IMSM(LoRA) at batch 4 × 1,024 fits
// in 40 GB with the CUDA defaults; IMSM's peak within 5% of LoRA's). How close
// it comes to measured peaks is a benchmark's question (tests/bench/bench_memory.sh,
// docs/PERFORMANCE.md), not a test's.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "imsm/gate.h"
#include "model_fixtures.h"
#include "peft/peft_model.h"
#include "recipes/memory_check.h"
#include "train/memory_estimate.h"

namespace {

// Llama 3 8B's config.json (meta-llama/Meta-Llama-3-8B), as published.
imsm::ModelConfig llama3_8b() {
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 4096}, {"intermediate_size", 14336},
                            {"num_attention_heads", 32}, {"num_key_value_heads", 8}, {"num_hidden_layers", 32},
                            {"vocab_size", 128256}, {"max_position_embeddings", 8192}, {"rope_theta", 500000.0},
                            {"rms_norm_eps", 1e-5}, {"torch_dtype", "bfloat16"}, {"tie_word_embeddings", false}};
  return imsm::parse_model_config(j, "llama3-8b");
}

// IMSM(LoRA) r 16 on q, v with the query gate r 8, batch 4 × 1,024, bf16 with the CUDA defaults
// (checkpointing on, the loss in chunks of 1,024), as `imsm train --device cuda` plans it.
imsm::MemoryPlan cuda_plan(bool imsm_gate) {
  imsm::MemoryPlan p;
  p.model = llama3_8b();
  p.peft.r = 16;
  p.imsm = imsm_gate;
  p.gate_parameters = imsm_gate ? imsm::gate_parameters(imsm::GateVariant::Query, 8, 4096) : 0;
  p.batch_size = 4;
  p.sequence_length = 1024;
  p.weight_bytes = p.activation_bytes = 2;
  p.checkpointing = true;
  p.loss_chunk = 1024;
  return p;
}

}  // namespace

TEST(MemoryEstimate, CountsTheAdaptersTheEngineBuilds) {
  const imsm::ModelConfig config = imsm::testing::tiny_config("qwen2");  // tied head, head_dim 12 != hidden / heads, GQA
  for (const imsm::PeftMethod method : {imsm::PeftMethod::LoRA, imsm::PeftMethod::DoRA, imsm::PeftMethod::AdaLoRA, imsm::PeftMethod::IA3}) {
    auto model = imsm::testing::random_model(config, 1);
    imsm::PeftConfig pc;
    pc.method = method;
    pc.r = 4;
    pc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    pc.feedforward_modules = {"down_proj"};
    const auto adapters = imsm::PeftAdapters::attach(*model, pc, 1);
    EXPECT_EQ(imsm::adapter_parameters(config, pc), adapters->num_parameters()) << imsm::method_name(method);
  }
  EXPECT_EQ(imsm::gate_parameters(imsm::GateVariant::None, 3, config.hidden_size), 0);  // the PEFT method alone: no gate is built
  for (const char* variant : {"query", "no-query", "no-gate"}) {
    imsm::GateConfig gc;
    gc.variant = imsm::parse_variant(variant, "test");
    gc.rank = 3;
    gc.hidden_size = config.hidden_size;
    const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 1);
    EXPECT_EQ(imsm::gate_parameters(gc.variant, 3, config.hidden_size), gate.num_parameters()) << variant;
  }
}

TEST(MemoryEstimate, Llama3EightBillionFitsIn40GBWithTheCudaDefaults) {
  const imsm::MemoryEstimate e = imsm::estimate_memory(cuda_plan(true));
  ASSERT_EQ(e.parts.front().name, "weights");
  EXPECT_EQ(e.parts.front().bytes, 8030261248.0 * 2);  // the published 8,030,261,248 parameters, bf16
  EXPECT_LT(e.peak_bytes(), 40e9);
  // Without activation checkpointing the 32 layers' activations alone do not fit: why it is on by default on CUDA.
  imsm::MemoryPlan all_layers = cuda_plan(true);
  all_layers.checkpointing = false;
  EXPECT_GT(imsm::estimate_memory(all_layers).peak_bytes(), 40e9);
  // The second stream has no gradients: IMSM(LoRA)'s peak within 5% of LoRA's (issue 15's goal).
  const double lora = imsm::estimate_memory(cuda_plan(false)).peak_bytes();
  EXPECT_LE(e.peak_bytes(), 1.05 * lora);
  EXPECT_GT(e.peak_bytes(), lora);
}

TEST(MemoryEstimate, EachFeatureLowersItsOwnPart) {
  imsm::MemoryPlan plain = cuda_plan(true);
  plain.checkpointing = false;
  plain.loss_chunk = 0;
  auto part = [](const imsm::MemoryPlan& p, const std::string& name) {
    for (const auto& part : imsm::estimate_memory(p).parts)
      if (part.name == name) return part.bytes;
    return -1.0;
  };
  imsm::MemoryPlan chunked = plain;
  chunked.loss_chunk = 1024;
  // The whole batch's logits: 4,096 positions × 128,256 × 14 bytes; a chunk: 1,024 × 128,256 × 8 + the head's input gradient.
  EXPECT_EQ(part(plain, "logits"), 4096.0 * 128256 * 14);
  EXPECT_EQ(part(chunked, "logits"), 1024.0 * 128256 * 8 + 4096.0 * 4096 * 4);
  // Answers of at most 4 tokens: the chunked head sees 4 rows × 4 scored positions, not a whole chunk.
  imsm::MemoryPlan short_answers = chunked;
  short_answers.scored_per_row = 4;
  EXPECT_EQ(part(short_answers, "logits"), 16.0 * 128256 * 8 + 4096.0 * 4096 * 4);
  short_answers.loss_chunk = 0;  // the plain path computes every position's logits whatever is scored
  EXPECT_EQ(part(short_answers, "logits"), 4096.0 * 128256 * 14);
  imsm::MemoryPlan checkpointed = plain;
  checkpointed.checkpointing = true;
  EXPECT_LT(part(checkpointed, "activations"), part(plain, "activations") / 20);  // each layer's input instead of all it keeps
  EXPECT_EQ(part(plain, "weights"), part(checkpointed, "weights"));
  // No evaluation during training: no evaluation part; with it, the KV caches of both streams.
  EXPECT_EQ(part(plain, "evaluation"), -1.0);
  imsm::MemoryPlan evaluating = plain;
  evaluating.eval_batch_size = 4;
  evaluating.eval_length = 1024;
  EXPECT_GT(part(evaluating, "evaluation"), 2.0 * 32 * 8 * 1024 * 1024 * 2);  // K and V × layers × 8 rows (4 × 2 streams) × tokens × kv size × bf16
}

// LoRA's dropout keeps, per adapted linear and token, a dropped fp32 copy of
// the input and its 1-byte mask (model/dropout.cpp): 5 bytes per input element
// more than without dropout, in the activations of all 32 layers and in the
// backward's one layer in flight. Llama 3 8B, q and v (inputs 4,096 each).
TEST(MemoryEstimate, LoraDropoutKeepsACopyAndAByteMaskPerInput) {
  imsm::MemoryPlan with = cuda_plan(false);
  with.checkpointing = false;
  imsm::MemoryPlan without = with;
  without.peft.dropout = 0;
  ASSERT_GT(with.peft.dropout, 0);
  auto part = [](const imsm::MemoryPlan& p, const std::string& name) {
    for (const auto& part : imsm::estimate_memory(p).parts)
      if (part.name == name) return part.bytes;
    return -1.0;
  };
  const double tokens = 4 * 1024, inputs = 4096 + 4096, bytes = 5;
  // Relative 1e-12: the parts are sums of ~1e10-byte doubles, exact up to rounding.
  EXPECT_NEAR(part(with, "activations") - part(without, "activations"), tokens * 32 * inputs * bytes, 1e-12 * part(with, "activations"));
  EXPECT_NEAR(part(with, "backward") - part(without, "backward"), tokens * inputs * bytes, 1e-12 * part(with, "backward"));
}

// The batch is as long as the data's longest row, not the keys' maximum: the
// rows of a file encoded by Llama 3's tokenizer (../shared/data/tokenizers),
// their lengths counted by Hugging Face's tokenizers (the prompt with special
// tokens, the answer truncated to max_output_length - 1, then EOS).
TEST(MemoryEstimate, TheBatchIsAsLongAsTheDataLongestRow) {
  const std::string dir = testing::TempDir() + "/row-lengths";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir + "/data.jsonl");
    f << R"({"input": "Is the sky blue?", "output": "yes"})" << "\n"  // 5 + 1 + EOS
      << R"({"input": "Sentence: The cat sat on the mat.\nOutput:", "output": "no, it is not grammatical"})" << "\n"  // 11 + 3 of 7 + EOS
      << R"({"input": "Say it", "output": "the answer is a very long sentence that runs on"})" << "\n";  // 2 + 3 of 10 + EOS
  }
  imsm::TrainConfig c;
  c.model_path = IMSM_TOKENIZERS "/llama3";  // tokenizer.json is all training_row_lengths reads of the model
  c.chat_template = "off";  // the official rows counted above (in the chat format: tests/reference/check_chat_training.py)
  c.data_path = dir + "/data.jsonl";
  c.max_input_length = 128;
  c.max_output_length = 4;
  const imsm::RowLengths rows = imsm::training_row_lengths(c);
  EXPECT_EQ(rows.longest_row, 15);
  EXPECT_EQ(rows.longest_answer, 4);
  c.data_path = dir + "/not-there.jsonl";  // a project makes it later: the keys' maximum
  EXPECT_EQ(imsm::training_row_lengths(c).longest_row, 0);
  c.max_input_length = 8;  // truncated as the run truncates: 8 + 3 + EOS
  c.data_path = dir + "/data.jsonl";
  EXPECT_EQ(imsm::training_row_lengths(c).longest_row, 12);
}
