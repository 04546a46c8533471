// config.json parsing and the check of a checkpoint against it.
#include <gtest/gtest.h>

#include "io/hf_config.h"
#include "io/safetensors_writer.h"
#include "model/layout.h"
#include "test_util.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

// Llama 3.1 8B's config.json, as published.
const char* kLlama31 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 128000,
  "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu", "hidden_size": 4096,
  "intermediate_size": 14336, "max_position_embeddings": 131072, "model_type": "llama",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "vocab_size": 128256})";

// Found by fuzz_model_config (and every JSON reader's target): a number beyond
// a double is well-formed JSON that nlohmann refuses with an out_of_range, not
// a parse_error; it is bad input naming the file, never an internal error.
TEST(HfConfig, ANumberBeyondADoubleIsBadInputNamingTheFile) {
  imsm::testing::TempDir dir;
  const std::string path = dir.file("config.json");
  imsm::testing::write_file(path, R"({"hidden_size": 1e309})");
  expect_bad_input([&] { imsm::read_model_config(path); }, {path, "invalid JSON", "number overflow"});
  // Also found there: a whole float beyond int64 (1e92) was cast, undefined behaviour; 2^64 - 1 read as -1.
  imsm::testing::write_file(path, R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 1e92})");
  expect_bad_input([&] { imsm::read_model_config(path); }, {path, "hidden_size", "must be an integer"});
  imsm::testing::write_file(path, R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 18446744073709551615})");
  expect_bad_input([&] { imsm::read_model_config(path); }, {path, "hidden_size", "beyond the largest integer"});
}

TEST(HfConfig, ParsesLlama31) {
  const auto c = imsm::parse_model_config(nlohmann::json::parse(kLlama31), "config.json");
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  EXPECT_FALSE(c.attention_bias);
  // Llama 3.1 8B has 8,030,261,248 parameters (the published figure).
  EXPECT_EQ(c.num_parameters(), 8030261248LL);
}

// transformers 5 writes the RoPE settings as one "rope_parameters" object and
// "dtype" for "torch_dtype": the same Llama 3.1 config as transformers 5.23's
// save_pretrained lays it out.
TEST(HfConfig, ParsesTransformers5RopeParameters) {
  nlohmann::json j = nlohmann::json::parse(kLlama31);
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j.erase("torch_dtype");
  j["dtype"] = "bfloat16";
  j["rope_parameters"] = {{"factor", 8.0}, {"high_freq_factor", 4.0}, {"low_freq_factor", 1.0},
                          {"original_max_position_embeddings", 8192}, {"rope_theta", 500000.0}, {"rope_type", "llama3"}};
  const auto c = imsm::parse_model_config(j, "config.json");
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  j["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "default"}};  // Qwen2 / Mistral as written
  const auto d = imsm::parse_model_config(j, "config.json");
  EXPECT_EQ(d.rope_theta, 10000.0);
  EXPECT_EQ(d.rope_scaling.type, "none");
  j["rope_parameters"] = {{"rope_theta", 10000.0}, {"rope_type", "yarn"}};
  expect_bad_input([&] { imsm::parse_model_config(j, "config.json"); }, {"config.json (rope_parameters)", "yarn"});
}

TEST(HfConfig, Qwen2HasQkvBiasAndRoundTrips) {
  const auto j = nlohmann::json::parse(R"({"architectures":["Qwen2ForCausalLM"],"hidden_size":896,"intermediate_size":4864,
    "num_attention_heads":14,"num_key_value_heads":2,"num_hidden_layers":24,"vocab_size":151936,"tie_word_embeddings":true,
    "rope_theta":1000000.0,"rms_norm_eps":1e-06,"eos_token_id":151643,"bos_token_id":151643,"torch_dtype":"bfloat16"})");
  const auto c = imsm::parse_model_config(j, "config.json");
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  // Qwen2.5-0.5B: 494,032,768 parameters (the published figure).
  EXPECT_EQ(c.num_parameters(), 494032768LL);
  const auto again = imsm::parse_model_config(c.to_json(), "round trip");
  EXPECT_EQ(again.num_parameters(), c.num_parameters());
  EXPECT_EQ(again.head_dim, 64);
}

TEST(HfConfig, Qwen3HasHeadNormsAndHeadDim128) {
  // Qwen3-0.6B's config.json without its head_dim: Qwen3Config's default is 128, not hidden / heads (64).
  const auto j = nlohmann::json::parse(R"({"architectures":["Qwen3ForCausalLM"],"hidden_size":1024,"intermediate_size":3072,
    "num_attention_heads":16,"num_key_value_heads":8,"num_hidden_layers":28,"vocab_size":151936,"tie_word_embeddings":true,
    "rope_theta":1000000,"rms_norm_eps":1e-06,"attention_bias":false,"use_sliding_window":false,"sliding_window":32768})");
  const auto c = imsm::parse_model_config(j, "config.json");
  EXPECT_EQ(c.model_type, "qwen3");
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.sliding_window, 0);
  // transformers 5.2x counts Qwen3ForCausalLM(this config) on the meta device: 596,049,920 parameters.
  EXPECT_EQ(c.num_parameters(), 596049920LL);
  const auto again = imsm::parse_model_config(c.to_json(), "round trip");
  EXPECT_TRUE(again.qk_norm);
  EXPECT_EQ(again.num_parameters(), c.num_parameters());
}

TEST(HfConfig, ExplicitHeadDim) {
  auto j = nlohmann::json::parse(kLlama31);
  j["head_dim"] = 256;
  EXPECT_EQ(imsm::parse_model_config(j, "c").head_dim, 256);
}

TEST(HfConfig, BadConfigsNameFileAndKey) {
  TempDir dir;
  write_file(dir.file("config.json"), "{\n \"hidden_size\": 64,\n \"oops\" 1\n}");
  expect_bad_input([&] { imsm::read_model_config(dir.file("config.json")); }, {"config.json:3:", "malformed JSON"});
  auto j = nlohmann::json::parse(kLlama31);
  j["architectures"] = {"GPT2LMHeadModel"};
  expect_bad_input([&] { imsm::parse_model_config(j, "m/config.json"); }, {"m/config.json", "unsupported architecture \"GPT2LMHeadModel\""});
  j = nlohmann::json::parse(kLlama31);
  j.erase("hidden_size");
  expect_bad_input([&] { imsm::parse_model_config(j, "m/config.json"); }, {"m/config.json", "missing key \"hidden_size\""});
  j = nlohmann::json::parse(kLlama31);
  j["num_key_value_heads"] = 5;
  expect_bad_input([&] { imsm::parse_model_config(j, "m/config.json"); }, {"multiple of num_key_value_heads"});
  j = nlohmann::json::parse(kLlama31);
  j["rope_scaling"]["rope_type"] = "yarn";
  expect_bad_input([&] { imsm::parse_model_config(j, "m/config.json"); }, {"rope type \"yarn\""});
}

// A tiny checkpoint laid out for `c`, less `drop`, plus `add`, with `reshape` one column wider.
void write_tiny(const TempDir& dir, const imsm::ModelConfig& c, const std::string& drop, const std::string& add,
                const std::string& reshape) {
  std::vector<std::vector<float>> storage;
  std::vector<imsm::TensorToWrite> tensors;
  for (auto e : imsm::expected_tensors(c)) {
    if (e.name == drop) continue;
    if (e.name == reshape) e.shape.back() += 1;
    int64_t n = 1;
    for (auto s : e.shape) n *= s;
    storage.emplace_back(static_cast<size_t>(n), 0.0f);
    tensors.push_back({e.name, imsm::DType::F32, e.shape, storage.back().data()});
  }
  if (!add.empty()) {
    storage.emplace_back(1, 0.0f);
    tensors.push_back({add, imsm::DType::F32, {1}, storage.back().data()});
  }
  imsm::write_safetensors(dir.file("model.safetensors"), tensors);
}

TEST(Layout, ChecksCheckpointAgainstConfig) {
  auto j = nlohmann::json::parse(R"({"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":16,
    "num_attention_heads":2,"num_key_value_heads":1,"num_hidden_layers":2,"vocab_size":11})");
  const auto c = imsm::parse_model_config(j, "config.json");
  TempDir dir;
  write_tiny(dir, c, "", "", "");
  EXPECT_NO_THROW(imsm::check_layout(c, imsm::CheckpointWeights::open(dir.path().string()), "config.json"));
  write_tiny(dir, c, "model.layers.1.mlp.up_proj.weight", "", "");
  expect_bad_input([&] { imsm::check_layout(c, imsm::CheckpointWeights::open(dir.path().string()), "config.json"); },
                   {"model.safetensors", "missing tensor \"model.layers.1.mlp.up_proj.weight\""});
  write_tiny(dir, c, "", "model.layers.0.self_attn.extra.weight", "");
  expect_bad_input([&] { imsm::check_layout(c, imsm::CheckpointWeights::open(dir.path().string()), "config.json"); },
                   {"model.safetensors", "\"model.layers.0.self_attn.extra.weight\"", "unexpected tensor"});
  write_tiny(dir, c, "", "", "model.layers.0.self_attn.k_proj.weight");
  expect_bad_input([&] { imsm::check_layout(c, imsm::CheckpointWeights::open(dir.path().string()), "config.json"); },
                   {"\"model.layers.0.self_attn.k_proj.weight\"", "shape [4, 9]", "[4, 8]"});
}

TEST(Layout, RejectsUnsupportedDtype) {
  auto j = nlohmann::json::parse(R"({"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":16,
    "num_attention_heads":2,"num_hidden_layers":1,"vocab_size":5,"tie_word_embeddings":true})");
  const auto c = imsm::parse_model_config(j, "config.json");
  TempDir dir;
  std::vector<std::vector<int32_t>> storage;
  std::vector<imsm::TensorToWrite> tensors;
  for (const auto& e : imsm::expected_tensors(c)) {
    int64_t n = 1;
    for (auto s : e.shape) n *= s;
    storage.emplace_back(static_cast<size_t>(n), 0);
    tensors.push_back({e.name, imsm::DType::I32, e.shape, storage.back().data()});
  }
  imsm::write_safetensors(dir.file("model.safetensors"), tensors);
  expect_bad_input([&] { imsm::check_layout(c, imsm::CheckpointWeights::open(dir.path().string()), "config.json"); },
                   {"dtype I32 is not supported"});
}

}  // namespace
