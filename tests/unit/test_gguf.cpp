// GGUF import against hand-computed expectations: small GGUF files written in
// the test by ggml's own writer (gguf.h), read back through imsm's reader, the
// Q/K rows put back in Hugging Face's order (the expectation is
// convert_hf_to_gguf.py's permutation written out by hand), the tokenizer
// built from the vocabulary, and bad files refused without a byte written.
// The comparisons against transformers on real files are in
// tests/reference/check_gguf_import.py.
#include <gtest/gtest.h>

#include <ggml.h>
#include <gguf.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "gguf/gguf_file.h"
#include "gguf/gguf_model.h"
#include "gguf/gguf_quant.h"
#include "gguf/gguf_write.h"
#include "gguf/gguf_tokenizer.h"
#include "io/hf_config.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "recipes/import_gguf.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;
using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;

namespace {

// A tiny llama: hidden 32, 2 heads of 16 (1 KV head), ffn 64, 1 layer,
// vocab 7; rows of 32 and 64 values hold whole quantization blocks.
constexpr int64_t kHidden = 32, kHeads = 2, kKvHeads = 1, kHeadDim = 16, kFfn = 64, kVocab = 7;

struct TinyGguf {
  std::string arch = "llama";
  bool with_tokenizer = true;
  std::string pre = "smollm";
  bool corrupt_block_count_type = false;
  uint32_t block_count = 1;
  ggml_type weight_type = GGML_TYPE_F32;
  std::vector<float> rope_freqs;   // non-empty: a rope_freqs.weight tensor (Llama 3's RoPE scaling)
  std::string rope_scaling_type;   // non-empty: <arch>.rope.scaling.type
};

// Value i of tensor `seed`: distinct, exact in fp32.
float value(int seed, int64_t i) { return static_cast<float>(seed * 1000 + i) / 64.0f; }

// convert_hf_to_gguf.py's LlamaModel.permute: per head of d rows, Hugging
// Face's row j·d/2 + i becomes row 2i + j.
std::vector<float> permute(const std::vector<float>& w, int64_t heads, int64_t cols) {
  const int64_t d = static_cast<int64_t>(w.size()) / cols / heads, half = d / 2;
  std::vector<float> out(w.size());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t c = 0; c < cols; ++c) out[((h * d + 2 * i + j) * cols + c)] = w[((h * d + j * half + i) * cols + c)];
  return out;
}

struct Tensor {
  std::string name;
  std::vector<int64_t> hf_shape;  // outermost first
  std::vector<float> hf_values;   // Hugging Face's order
};

std::vector<Tensor> tiny_tensors(const std::string& arch = "llama") {
  std::vector<Tensor> t = {{"token_embd.weight", {kVocab, kHidden}, {}},
                           {"blk.0.attn_norm.weight", {kHidden}, {}},
                           {"blk.0.attn_q.weight", {kHeads * kHeadDim, kHidden}, {}},
                           {"blk.0.attn_k.weight", {kKvHeads * kHeadDim, kHidden}, {}},
                           {"blk.0.attn_v.weight", {kKvHeads * kHeadDim, kHidden}, {}},
                           {"blk.0.attn_output.weight", {kHidden, kHeads * kHeadDim}, {}},
                           {"blk.0.ffn_norm.weight", {kHidden}, {}},
                           {"blk.0.ffn_gate.weight", {kFfn, kHidden}, {}},
                           {"blk.0.ffn_up.weight", {kFfn, kHidden}, {}},
                           {"blk.0.ffn_down.weight", {kHidden, kFfn}, {}},
                           {"output_norm.weight", {kHidden}, {}}};
  if (arch == "qwen3") {  // per-head query and key norms
    t.push_back({"blk.0.attn_q_norm.weight", {kHeadDim}, {}});
    t.push_back({"blk.0.attn_k_norm.weight", {kHeadDim}, {}});
  }
  for (size_t k = 0; k < t.size(); ++k) {
    const int64_t n = std::accumulate(t[k].hf_shape.begin(), t[k].hf_shape.end(), int64_t{1}, std::multiplies<>());
    for (int64_t i = 0; i < n; ++i) t[k].hf_values.push_back(value(static_cast<int>(k), i));
  }
  return t;
}

void write_tiny(const std::string& path, const TinyGguf& o) {
  gguf_context* g = gguf_init_empty();
  gguf_set_val_str(g, "general.architecture", o.arch.c_str());
  gguf_set_val_str(g, "general.name", "tiny");
  const std::string a = o.arch + ".";
  if (o.corrupt_block_count_type) gguf_set_val_str(g, (a + "block_count").c_str(), "one");
  else gguf_set_val_u32(g, (a + "block_count").c_str(), o.block_count);
  gguf_set_val_u32(g, (a + "embedding_length").c_str(), kHidden);
  gguf_set_val_u32(g, (a + "feed_forward_length").c_str(), kFfn);
  gguf_set_val_u32(g, (a + "attention.head_count").c_str(), kHeads);
  gguf_set_val_u32(g, (a + "attention.head_count_kv").c_str(), kKvHeads);
  gguf_set_val_u32(g, (a + "context_length").c_str(), 64);
  gguf_set_val_f32(g, (a + "attention.layer_norm_rms_epsilon").c_str(), 1e-5f);
  gguf_set_val_f32(g, (a + "rope.freq_base").c_str(), 10000.0f);
  if (!o.rope_scaling_type.empty()) gguf_set_val_str(g, (a + "rope.scaling.type").c_str(), o.rope_scaling_type.c_str());
  if (o.with_tokenizer) {
    const char* tokens[kVocab] = {"<|endoftext|>", "a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "a", "1"};  // "Ġ": a space
    const int32_t types[kVocab] = {3, 1, 1, 1, 1, 1, 1};
    const char* merges[2] = {"a b", "\xC4\xA0 a"};
    gguf_set_val_str(g, "tokenizer.ggml.model", "gpt2");
    gguf_set_val_str(g, "tokenizer.ggml.pre", o.pre.c_str());
    gguf_set_arr_str(g, "tokenizer.ggml.tokens", tokens, kVocab);
    gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, types, kVocab);
    gguf_set_arr_str(g, "tokenizer.ggml.merges", merges, 2);
    gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", 0);
    gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", 0);
    gguf_set_val_str(g, "tokenizer.chat_template", "{{ messages[0]['content'] }}");
  }
  ggml_init_params params{16 * 1024 * 1024, nullptr, false};
  ggml_context* ctx = ggml_init(params);
  std::vector<Tensor> tensors = tiny_tensors(o.arch);
  if (!o.rope_freqs.empty()) tensors.push_back({"rope_freqs.weight", {static_cast<int64_t>(o.rope_freqs.size())}, o.rope_freqs});
  for (const auto& t : tensors) {
    std::vector<float> v = t.hf_values;
    const bool permuted = o.arch == "llama";  // convert_hf_to_gguf.py permutes Q and K of llama only
    if (permuted && t.name == "blk.0.attn_q.weight") v = permute(v, kHeads, kHidden);
    if (permuted && t.name == "blk.0.attn_k.weight") v = permute(v, kKvHeads, kHidden);
    const bool matrix = t.hf_shape.size() == 2;
    const ggml_type type = matrix ? o.weight_type : GGML_TYPE_F32;
    ggml_tensor* x = matrix ? ggml_new_tensor_2d(ctx, type, t.hf_shape[1], t.hf_shape[0]) : ggml_new_tensor_1d(ctx, type, t.hf_shape[0]);
    ggml_set_name(x, t.name.c_str());
    if (type == GGML_TYPE_F32) {
      std::memcpy(x->data, v.data(), v.size() * sizeof(float));
    } else if (type == GGML_TYPE_I32) {  // no float conversion: whole numbers as they are
      for (size_t i = 0; i < v.size(); ++i) static_cast<int32_t*>(x->data)[i] = static_cast<int32_t>(v[i]);
    } else {
      ggml_get_type_traits(type)->from_float_ref(v.data(), x->data, static_cast<int64_t>(v.size()));
    }
    gguf_add_tensor(g, x);
  }
  ASSERT_TRUE(gguf_write_to_file(g, path.c_str(), false));
  ggml_free(ctx);
  gguf_free(g);
}

std::string bytes_of(const std::string& path) { return imsm::testing::read_file(path); }

}  // namespace

TEST(Gguf, ImportsTheWeightsWithQAndKRowsInHuggingFacesOrder) {
  TempDir dir;
  write_tiny(dir.file("tiny.gguf"), {});
  imsm::ImportGgufRequest r{dir.file("tiny.gguf"), dir.file("out"), false, imsm::Precision::F32};
  const auto result = imsm::run_import_gguf(r);
  EXPECT_EQ(result.architecture, "llama");
  EXPECT_EQ(result.name, "tiny");
  EXPECT_EQ(result.source_types.at("f32"), 11);
  EXPECT_TRUE(result.chat_template);

  const auto st = imsm::SafetensorsFile::open(dir.file("out/model.safetensors"));
  const std::map<std::string, std::string> hf = {
      {"token_embd.weight", "model.embed_tokens.weight"},           {"blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"},
      {"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"}, {"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight"},
      {"blk.0.attn_v.weight", "model.layers.0.self_attn.v_proj.weight"}, {"blk.0.attn_output.weight", "model.layers.0.self_attn.o_proj.weight"},
      {"blk.0.ffn_norm.weight", "model.layers.0.post_attention_layernorm.weight"}, {"blk.0.ffn_gate.weight", "model.layers.0.mlp.gate_proj.weight"},
      {"blk.0.ffn_up.weight", "model.layers.0.mlp.up_proj.weight"},   {"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight"},
      {"output_norm.weight", "model.norm.weight"}};
  EXPECT_EQ(st.tensors().size(), hf.size()) << "tied embeddings: no lm_head.weight";
  for (const auto& t : tiny_tensors()) {
    const imsm::TensorView* v = st.find(hf.at(t.name));
    ASSERT_NE(v, nullptr) << t.name;
    EXPECT_EQ(v->shape, t.hf_shape) << t.name;
    ASSERT_EQ(v->dtype, imsm::DType::F32);
    const auto* got = reinterpret_cast<const float*>(v->data);
    for (size_t i = 0; i < t.hf_values.size(); ++i) ASSERT_EQ(got[i], t.hf_values[i]) << t.name << "[" << i << "]";
  }
  const auto config = imsm::read_model_config(dir.file("out/config.json"));
  EXPECT_EQ(config.architecture, "LlamaForCausalLM");
  EXPECT_EQ(config.hidden_size, kHidden);
  EXPECT_EQ(config.num_key_value_heads, kKvHeads);
  EXPECT_EQ(config.vocab_size, kVocab);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_NEAR(config.rms_norm_eps, 1e-5, 1e-12);  // stored as f32 in the file: 1e-5 to 7 digits
}

TEST(Gguf, Qwen3KeepsItsRowsAndGainsItsHeadNorms) {
  TempDir dir;
  TinyGguf o;
  o.arch = "qwen3";
  write_tiny(dir.file("qwen3.gguf"), o);
  const auto result = imsm::run_import_gguf({dir.file("qwen3.gguf"), dir.file("out"), false, imsm::Precision::F32});
  EXPECT_EQ(result.architecture, "qwen3");
  const auto config = imsm::read_model_config(dir.file("out/config.json"));
  EXPECT_EQ(config.architecture, "Qwen3ForCausalLM");
  EXPECT_TRUE(config.qk_norm);
  EXPECT_FALSE(config.attention_bias);
  const auto st = imsm::SafetensorsFile::open(dir.file("out/model.safetensors"));
  EXPECT_EQ(st.tensors().size(), 13u);
  const auto tensors = tiny_tensors("qwen3");
  for (const auto& names : std::map<std::string, std::string>{
           {"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"},  // written unpermuted: read as they are
           {"blk.0.attn_q_norm.weight", "model.layers.0.self_attn.q_norm.weight"},
           {"blk.0.attn_k_norm.weight", "model.layers.0.self_attn.k_norm.weight"}}) {
    const std::string& gguf_name = names.first;  // a plain reference: clang 14 lambdas cannot capture structured bindings
    const std::string& hf_name = names.second;
    const auto t = std::find_if(tensors.begin(), tensors.end(), [&](const Tensor& x) { return x.name == gguf_name; });
    const imsm::TensorView* v = st.find(hf_name);
    ASSERT_NE(v, nullptr) << hf_name;
    EXPECT_EQ(v->shape, t->hf_shape) << hf_name;
    const auto* got = reinterpret_cast<const float*>(v->data);
    for (size_t i = 0; i < t->hf_values.size(); ++i) ASSERT_EQ(got[i], t->hf_values[i]) << hf_name << "[" << i << "]";
  }
}

TEST(Gguf, Llama3RopeFrequencyDivisorsBecomeItsRopeScaling) {
  // head_dim 16, theta 10000: wavelengths 2π·10000^(i/8) = 6.3, 19.9, 62.8, 199, 628, 1987, 6283, 19869.
  // Llama 3 scaling with factor 8, low 1, high 4, original length 1024: below 1024/4 = 256 undivided, above
  // 1024 divided by 8, and 628.3 blended: smooth = (1024/628.32 - 1)/3 = 0.209916, divisor
  // 1/((1 - smooth)/8 + smooth) = 3.239642 (convert_hf_to_gguf.py's formula, by hand).
  TempDir dir;
  TinyGguf o;
  o.rope_freqs = {1, 1, 1, 1, 3.2396418f, 8, 8, 8};
  write_tiny(dir.file("llama3.gguf"), o);
  imsm::run_import_gguf({dir.file("llama3.gguf"), dir.file("out"), false, imsm::Precision::F32});
  const auto config = imsm::read_model_config(dir.file("out/config.json"));
  EXPECT_EQ(config.rope_scaling.type, "llama3");
  EXPECT_EQ(config.rope_scaling.factor, 8.0);
  EXPECT_EQ(config.rope_scaling.low_freq_factor, 1.0);
  EXPECT_EQ(config.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(config.rope_scaling.original_max_position_embeddings, 1024);
  EXPECT_FALSE(imsm::SafetensorsFile::open(dir.file("out/model.safetensors")).find("rope_freqs.weight"));

  o.rope_freqs = {1, 1, 1, 1, 1, 1, 1, 1};  // nothing divided: no scaling
  write_tiny(dir.file("ones.gguf"), o);
  imsm::run_import_gguf({dir.file("ones.gguf"), dir.file("out2"), false, imsm::Precision::F32});
  EXPECT_EQ(imsm::read_model_config(dir.file("out2/config.json")).rope_scaling.type, "none");
}

TEST(Gguf, Bf16WeightsAreTheF32OnesRoundedToNearestEven) {
  TempDir dir;
  write_tiny(dir.file("tiny.gguf"), {});
  imsm::run_import_gguf({dir.file("tiny.gguf"), dir.file("out"), false, imsm::Precision::BF16});
  const auto st = imsm::SafetensorsFile::open(dir.file("out/model.safetensors"));
  const imsm::TensorView* v = st.find("model.layers.0.mlp.up_proj.weight");
  ASSERT_EQ(v->dtype, imsm::DType::BF16);
  const auto* got = reinterpret_cast<const uint16_t*>(v->data);
  const float x = value(8, 5);  // 8005/64 = 125.078125: 0x42FA2800 in fp32, below half an bf16 step -> 0x42FA
  EXPECT_EQ(got[5], 0x42FA);
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  EXPECT_EQ(bits, 0x42FA2800u);
  EXPECT_EQ(imsm::read_model_config(dir.file("out/config.json")).torch_dtype, "bfloat16");
}

// Row-wise quantization commutes with the Q/K row permutation, so the import
// of Q8_0 and Q4_1 files must give ggml's dequantization of the unpermuted
// rows, bit for bit: offsets, types and the unpermutation plumbed right.
// (K-quants need rows of 256: check_gguf_import.py imports llama-quantize's.)
TEST(Gguf, QuantizedWeightsComeBackAsGgmlDequantizesTheirRows) {
  for (const ggml_type type : {GGML_TYPE_Q8_0, GGML_TYPE_Q4_1}) {
    TempDir dir;
    TinyGguf o;
    o.weight_type = type;
    write_tiny(dir.file("q.gguf"), o);
    const auto result = imsm::run_import_gguf({dir.file("q.gguf"), dir.file("out"), false, imsm::Precision::F32});
    EXPECT_EQ(result.source_types.at(ggml_type_name(type)), 8) << ggml_type_name(type);  // the matrices; norms stay f32
    const auto st = imsm::SafetensorsFile::open(dir.file("out/model.safetensors"));
    const ggml_type_traits* traits = ggml_get_type_traits(type);
    for (const auto& [gguf_name, hf_name] : std::vector<std::pair<std::string, std::string>>{
             {"blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"},
             {"blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight"},
             {"blk.0.ffn_down.weight", "model.layers.0.mlp.down_proj.weight"}}) {
      const auto tensors = tiny_tensors();
      const std::string wanted = gguf_name;  // clang 14 cannot capture a structured binding
      const auto& t = *std::find_if(tensors.begin(), tensors.end(), [&](const Tensor& x) { return x.name == wanted; });
      const int64_t n = static_cast<int64_t>(t.hf_values.size());
      std::vector<uint8_t> q(ggml_row_size(type, n));
      traits->from_float_ref(t.hf_values.data(), q.data(), n);
      std::vector<float> want(static_cast<size_t>(n));
      traits->to_float(q.data(), want.data(), n);
      const auto* got = reinterpret_cast<const float*>(st.find(hf_name)->data);
      bool moved = false;
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], want[static_cast<size_t>(i)]) << ggml_type_name(type) << " " << hf_name << "[" << i << "]";
        moved = moved || want[static_cast<size_t>(i)] != t.hf_values[static_cast<size_t>(i)];
      }
      EXPECT_TRUE(moved) << "quantization changed nothing: the test would not see a wrong dequantizer";
    }
  }
}

TEST(Gguf, TheTokenizerIsByteLevelBpeWithTheFilesMergesAndSpecialTokens) {
  TempDir dir;
  write_tiny(dir.file("tiny.gguf"), {});
  imsm::run_import_gguf({dir.file("tiny.gguf"), dir.file("out"), false, imsm::Precision::F32});
  const auto tok = imsm::load_tokenizer(dir.file("out"));
  // "ab a1" -> "ab", "Ġa", "1": merges a+b and Ġ+a; the digit split off (smollm's pre-tokenizer).
  EXPECT_EQ(tok->encode("ab a1", false), (std::vector<int32_t>{3, 5, 6}));
  // "a  1": GPT-2's split alone would give "a", "Ġ", "Ġ1"; with the digit split first, the two spaces are one
  // piece "ĠĠ" (no merge: two "Ġ"), then "1": what llama.cpp's smollm pre-tokenizer does.
  EXPECT_EQ(tok->encode("a  1", false), (std::vector<int32_t>{1, 4, 4, 6}));
  EXPECT_EQ(tok->encode("<|endoftext|>ab", false), (std::vector<int32_t>{0, 3}));  // a control token stays whole
  EXPECT_EQ(tok->decode({3, 5, 6}), "ab a1");
  const auto config = imsm::json::read_file(dir.file("out/tokenizer_config.json"));
  EXPECT_EQ(config["chat_template"], "{{ messages[0]['content'] }}");
  EXPECT_EQ(config["eos_token"], "<|endoftext|>");
}

TEST(Gguf, SentencePieceMergesAreRecoveredFromTheScoresAsTransformersDoes) {
  // transformers' generate_merges by hand: "ab" (score -1) splits as a+b;
  // "abc" (score -2) as a+bc and ab+c, ordered by the pieces' ids; sorted by
  // score, descending: a b, then ab c / a bc by the left piece's length.
  TempDir dir;
  gguf_context* g = gguf_init_empty();
  const char* tokens[6] = {"<unk>", "a", "b", "c", "ab", "abc"};
  const float scores[6] = {0, -5, -5, -5, -1, -2};
  gguf_set_val_str(g, "tokenizer.ggml.model", "llama");
  gguf_set_arr_str(g, "tokenizer.ggml.tokens", tokens, 6);
  gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, scores, 6);
  gguf_set_val_u32(g, "tokenizer.ggml.unknown_token_id", 0);
  // Token types as any integer type the file likes, out of int's range too (fuzz_gguf's finding 2 under UBSan):
  // 3 (control) -> a special added token; others are plain vocabulary.
  const uint32_t types[6] = {3, 1, 1, 4294967295u, 1, 1};
  gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_UINT32, types, 6);
  ASSERT_TRUE(gguf_write_to_file(g, dir.file("spm.gguf").c_str(), false));
  gguf_free(g);
  const auto file = imsm::GgufFile::open(dir.file("spm.gguf"));
  const auto t = imsm::read_gguf_tokenizer(*file, 64);
  EXPECT_EQ(t.tokenizer["model"]["merges"], nlohmann::json::parse(R"([["a","b"],["ab","c"]])"));
  EXPECT_TRUE(t.tokenizer["model"]["byte_fallback"].get<bool>());
  ASSERT_EQ(t.tokenizer["added_tokens"].size(), 1u);
  EXPECT_EQ(t.tokenizer["added_tokens"][0]["content"], "<unk>");
}

TEST(Gguf, BadFilesAreRefusedNamingTheFileAndNothingIsWritten) {
  TempDir dir;
  write_tiny(dir.file("tiny.gguf"), {});
  const std::string whole = bytes_of(dir.file("tiny.gguf"));
  const auto refused = [&](const std::string& name, const std::vector<std::string>& needles) {
    expect_bad_input([&] { imsm::run_import_gguf({dir.file(name), dir.file("out-" + name), false, imsm::Precision::F32}); }, needles);
    EXPECT_FALSE(fs::exists(dir.file("out-" + name))) << name;
    EXPECT_FALSE(fs::exists(dir.file("out-" + name + ".tmp"))) << name;
  };
  // Cut in the header, in the metadata, in the tensor infos and in the data.
  for (const size_t cut : {size_t{3}, size_t{20}, whole.size() / 4, whole.size() / 2, whole.size() - 1}) {
    const std::string name = "cut" + std::to_string(cut) + ".gguf";
    imsm::testing::write_file(dir.file(name), whole.substr(0, cut));
    refused(name, {name});
  }
  imsm::testing::write_file(dir.file("empty.gguf"), "");
  refused("empty.gguf", {"empty.gguf"});
  imsm::testing::write_file(dir.file("magic.gguf"), "GGUX" + whole.substr(4));
  refused("magic.gguf", {"magic.gguf", "magic"});

  // Good files but for one thing.
  const auto refused_variant = [&](const std::string& name, const std::function<void(TinyGguf&)>& change,
                                   std::vector<std::string> needles) {
    TinyGguf o;
    change(o);
    write_tiny(dir.file(name), o);
    needles.push_back(name);
    refused(name, needles);
  };
  refused_variant("arch.gguf", [](TinyGguf& o) { o.arch = "gptneox"; }, {"gptneox", "supported: llama, qwen2, qwen3"});
  refused_variant("freqs-count.gguf", [](TinyGguf& o) { o.rope_freqs = {1, 1, 8}; }, {"3 RoPE frequency divisors", "needs 8"});
  refused_variant("freqs-below-one.gguf", [](TinyGguf& o) { o.rope_freqs = {1, 1, 1, 1, 0.5f, 8, 8, 8}; }, {"rope_freqs.weight", ">= 1"});
  refused_variant("freqs-shape.gguf", [](TinyGguf& o) { o.rope_freqs = {8, 1, 1, 1, 1, 1, 1, 1}; }, {"follow no Llama 3 scaling"});
  // Undivided up to 199, divided from 628: the blend over [L/4, L] spans 4x, these wavelengths step 3.16x,
  // so one must be blended for any original length L.
  refused_variant("freqs-no-blend.gguf", [](TinyGguf& o) { o.rope_freqs = {1, 1, 1, 1, 8, 8, 8, 8}; }, {"follow no Llama 3 scaling"});
  refused_variant("freqs-and-type.gguf", [](TinyGguf& o) { o.rope_freqs = {1, 1, 1, 1, 1, 8, 8, 8}; o.rope_scaling_type = "linear"; },
                  {"llama.rope.scaling.type", "rope_freqs.weight"});
  refused_variant("key.gguf", [](TinyGguf& o) { o.corrupt_block_count_type = true; }, {"llama.block_count", "not an integer"});
  // fuzz_gguf's finding 11: a block_count the tensors cannot back took all memory.
  refused_variant("layers.gguf", [](TinyGguf& o) { o.block_count = 2000000000; }, {"llama.block_count", "2000000000 layers", "11 tensors"});
  refused_variant("pre.gguf", [](TinyGguf& o) { o.pre = "no-such-pre"; }, {"no-such-pre", "supported"});
  refused_variant("i32.gguf", [](TinyGguf& o) { o.weight_type = GGML_TYPE_I32; }, {"i32", "supported: f32, f16"});
}

TEST(Gguf, AnOutputFolderThatIsNotEmptyIsKeptWithoutForce) {
  TempDir dir;
  write_tiny(dir.file("tiny.gguf"), {});
  fs::create_directories(dir.file("out"));
  imsm::testing::write_file(dir.file("out/keep.txt"), "mine");
  expect_bad_input([&] { imsm::run_import_gguf({dir.file("tiny.gguf"), dir.file("out"), false, imsm::Precision::F32}); }, {"not empty", "--force"});
  EXPECT_EQ(bytes_of(dir.file("out/keep.txt")), "mine");
  imsm::run_import_gguf({dir.file("tiny.gguf"), dir.file("out"), true, imsm::Precision::F32});
  EXPECT_FALSE(fs::exists(dir.file("out/keep.txt")));
  EXPECT_TRUE(fs::exists(dir.file("out/model.safetensors")));
}

// --- Writing (the export): ggml's writer and quantizers, the type each tensor gets ---

namespace {

std::vector<float> ramp(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = std::sin(0.37f * static_cast<float>(i)) * (1.0f + static_cast<float>(i % 7));
  return v;
}

std::vector<uint8_t> reference_bytes(ggml_type type, const std::vector<float>& v) {
  std::vector<uint8_t> out(ggml_row_size(type, static_cast<int64_t>(v.size())));
  if (type == GGML_TYPE_F32) std::memcpy(out.data(), v.data(), out.size());
  else ggml_get_type_traits(type)->from_float_ref(v.data(), out.data(), static_cast<int64_t>(v.size()));
  return out;
}

}  // namespace

TEST(GgufWrite, EveryTypeHoldsWhatGgmlsReferenceQuantizerMakesAndTheMetadataReadsBack) {
  TempDir dir;
  const std::string path = dir.file("out.gguf");
  const std::vector<ggml_type> types = {GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0,
                                        GGML_TYPE_Q5_0, GGML_TYPE_Q4_K, GGML_TYPE_Q6_K};
  imsm::GgufWriter w;
  w.set_text("general.architecture", "llama");
  w.set_u32("llama.block_count", 3);
  w.set_f32("llama.rope.freq_base", 100000.0f);
  w.set_bool("tokenizer.ggml.add_bos_token", false);
  w.set_texts("tokenizer.ggml.tokens", {"a", "\xC4\xA0" "b", ""});
  w.set_i32s("tokenizer.ggml.token_type", {1, 3, 5});
  std::vector<std::vector<float>> values;
  for (size_t i = 0; i < types.size(); ++i) {
    w.add_tensor("t" + std::to_string(i), {3, 256}, types[i]);  // 3 rows of 256: whole blocks of every type
    values.push_back(ramp(3 * 256 + static_cast<int64_t>(i)));
    values.back().resize(3 * 256);
  }
  w.write(path, [&](size_t i) { return values[i]; }, {});

  const auto f = imsm::GgufFile::open(path);
  EXPECT_EQ(f->text("general.architecture"), "llama");
  EXPECT_EQ(f->integer("llama.block_count"), 3);
  EXPECT_EQ(f->number("llama.rope.freq_base"), 100000.0);
  EXPECT_EQ(f->boolean("tokenizer.ggml.add_bos_token"), false);
  EXPECT_EQ(f->texts("tokenizer.ggml.tokens"), (std::vector<std::string>{"a", "\xC4\xA0" "b", ""}));
  EXPECT_EQ(f->numbers("tokenizer.ggml.token_type"), (std::vector<double>{1, 3, 5}));
  const std::string bytes = bytes_of(path);
  for (size_t i = 0; i < types.size(); ++i) {
    const imsm::GgufTensorInfo* t = f->find("t" + std::to_string(i));
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 256}));
    EXPECT_EQ(t->type, types[i]);
    const std::vector<uint8_t> want = reference_bytes(types[i], values[i]);
    ASSERT_EQ(t->nbytes, want.size()) << t->type_name;
    EXPECT_EQ(std::memcmp(bytes.data() + t->offset, want.data(), want.size()), 0) << t->type_name;
  }
}

TEST(GgufWrite, RowsThatSplitABlockAndCancellingLeaveNoFile) {
  TempDir dir;
  imsm::GgufWriter w;
  expect_bad_input([&] { w.add_tensor("blk.0.attn_q.weight", {4, 576}, GGML_TYPE_Q4_K); }, {"blk.0.attn_q.weight", "576", "256"});
  w.add_tensor("x", {2, 32}, GGML_TYPE_Q8_0);
  w.add_tensor("y", {2, 32}, GGML_TYPE_Q8_0);
  int calls = 0;
  imsm::Hooks hooks;
  hooks.should_abort = [&] { return calls > 0; };  // stop before the second tensor
  const std::string path = dir.file("cancelled.gguf");
  EXPECT_THROW(w.write(path, [&](size_t) { ++calls; return ramp(64); }, hooks), imsm::Error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

// llama.cpp's llama_tensor_get_type for the file types written, on SmolLM2's shapes (hidden 576 = 2.25 blocks
// of 256, ffn 1536, 30 layers, tied embedding), by hand from src/llama-quant.cpp's rules.
TEST(GgufWrite, EachTensorGetsTheTypeLlamaQuantizePicks) {
  const imsm::GgufQuant q4 = imsm::gguf_quant("q4_k_m", "--quant"), q8 = imsm::gguf_quant("q8_0", "--quant");
  auto type = [](const imsm::GgufQuant& q, const std::string& name, std::vector<int64_t> shape, bool tied = true) {
    return std::string(ggml_type_name(static_cast<ggml_type>(imsm::gguf_tensor_type(q, name, shape, 30, tied))));
  };
  EXPECT_EQ(type(q4, "blk.0.attn_norm.weight", {576}), "f32");              // 1-D: never quantized
  EXPECT_EQ(type(q4, "blk.0.attn_q_norm.weight", {64, 1}), "f32");          // a norm
  EXPECT_EQ(type(q4, "blk.5.attn_q.weight", {576, 576}), "q5_0");           // q4_K falls back: 576 % 256
  EXPECT_EQ(type(q4, "blk.0.attn_v.weight", {192, 576}), "q8_0");           // q6_K (first eighth) falls back
  EXPECT_EQ(type(q4, "blk.0.ffn_down.weight", {576, 1536}), "q6_K");        // layer 0 < 30/8: more bits
  EXPECT_EQ(type(q4, "blk.4.ffn_down.weight", {576, 1536}), "q4_K");        // (4 - 3) % 3 != 2
  EXPECT_EQ(type(q4, "blk.5.ffn_down.weight", {576, 1536}), "q6_K");        // (5 - 3) % 3 == 2
  EXPECT_EQ(type(q4, "blk.27.ffn_down.weight", {576, 1536}), "q6_K");       // the last eighth
  EXPECT_EQ(type(q4, "token_embd.weight", {49152, 576}), "q8_0");           // the tied output: q8_0 when 576 % 256
  EXPECT_EQ(type(q4, "token_embd.weight", {1000, 512}), "q6_K");            // ... q6_K when whole blocks
  EXPECT_EQ(type(q4, "token_embd.weight", {1000, 512}, false), "q4_K");     // untied: the default
  EXPECT_EQ(type(q4, "blk.0.attn_q.weight", {64, 48}), "f16");              // no 32-wide block fits either
  EXPECT_EQ(type(q8, "token_embd.weight", {49152, 576}), "q8_0");
  EXPECT_EQ(type(q8, "blk.0.attn_q.bias", {576, 1}), "f32");                // not a weight
  expect_bad_input([] { imsm::gguf_quant("q3_k_s", "--quant"); }, {"--quant", "q3_k_s", "f32, f16, bf16, q8_0, q4_k_m"});
}
