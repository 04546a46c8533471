// The engine against the real Hugging Face stack. tests/reference/make_models.py
// has transformers write tiny random Llama (llama3 RoPE, tied and untied,
// sharded), Mistral, Qwen2 (q/k/v bias, GQA) and Qwen3 (per-head q/k norms) checkpoints with
// save_pretrained, and records what transformers computes with them; this test
// loads the same folders with the engine and compares.
//
// Tolerances:
//  - fp32: max |difference| within kWholeModel ulps (tolerance.h) of the
//    largest |value| on the last hidden state and the logits: two
//    implementations of 3 layers round differently, relative to the values'
//    size and by the CPU's kernels; a wrong term moves them by percents.
//  - bf16: both sides round every matmul and norm output to 8 significant bits
//    (relative step 2^-8 = 0.4%), in different orders; over 3 layers the
//    differences stay within a few steps of the largest value, so
//    max |difference| <= 3% of max |logit| (1.5% of max |hidden|) — a wrong
//    term (a missing bias, a wrong RoPE frequency) moves values by 10-100%.
//  - greedy ids: identical, fp32 only: the script records the smallest top-1
//    minus top-2 margin along the paths (>= 1e-2 here, 100x the logit
//    tolerance), so a difference is a real one. bf16 logits tie exactly
//    (margin 0), where argmax is implementation-defined. The tied-head random
//    models repeat their last prompt token (its embedding is the head's row),
//    so the untied ones carry most of the greedy check.
#include <gtest/gtest.h>

#include <cstdlib>

#include <filesystem>
#include <random>

#include "io/json_file.h"
#include "tolerance.h"
#include "io/safetensors.h"
#include "model/generate.h"
#include "model/loader.h"
#include "model/tensor_io.h"
#include "peft/peft_model.h"
#include "train/trainer.h"

namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* p = std::getenv(name);
  return p ? p : fallback;
}

// Where ctest's fixtures wrote the references (the build folder).
std::string reference_dir() { return env_or("IMSM_REFERENCE_ROOT", IMSM_BUILD_DIR) + "/reference-models"; }

struct Reference {
  torch::Tensor input_ids, attention_mask, hidden, logits, greedy, greedy_nocache;  // as make_models.py documents
  double margin = 0;
};

// One tensor of a reference file: ids as int64, values as fp32.
torch::Tensor read_tensor(const imsm::SafetensorsFile& file, const std::string& name) {
  const imsm::TensorView* v = file.find(name);
  if (!v) throw std::runtime_error(file.path() + " has no " + name);
  return imsm::to_tensor(*v, file.mapping(), torch::kCPU, v->dtype == imsm::DType::I64 ? torch::kInt64 : torch::kFloat32).clone();
}

Reference read_reference(const std::string& path) {
  const auto file = imsm::SafetensorsFile::open(path);
  Reference r;
  for (auto [name, t] : {std::pair<const char*, torch::Tensor*>{"input_ids", &r.input_ids}, {"attention_mask", &r.attention_mask},
                         {"hidden", &r.hidden}, {"logits", &r.logits}, {"greedy", &r.greedy}, {"greedy_nocache", &r.greedy_nocache}})
    *t = read_tensor(file, name);
  r.margin = read_tensor(file, "margin").item<double>();
  return r;
}

// The left-padded batch as prompts without their padding.
std::vector<std::vector<int32_t>> prompts_of(const Reference& r) {
  std::vector<std::vector<int32_t>> out;
  for (int64_t b = 0; b < r.input_ids.size(0); ++b) {
    std::vector<int32_t> row;
    for (int64_t t = 0; t < r.input_ids.size(1); ++t)
      if (r.attention_mask[b][t].item<int64_t>() == 1) row.push_back(static_cast<int32_t>(r.input_ids[b][t].item<int64_t>()));
    out.push_back(row);
  }
  return out;
}

std::vector<int64_t> row_of(const torch::Tensor& ids, int64_t b) {
  const torch::Tensor r = ids[b].contiguous();
  return std::vector<int64_t>(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel());
}

// The reference's batch as the engine pads it (model/generate.h's left_pad of
// its prompts: ids, mask, and positions from 0 at each row's first token),
// which must be the very batch the reference script gave transformers.
imsm::ForwardInput forward_input(const Reference& ref) {
  const imsm::PaddedBatch batch = imsm::left_pad(prompts_of(ref));
  EXPECT_TRUE(torch::equal(batch.ids, ref.input_ids)) << "the engine pads otherwise than the reference script";
  EXPECT_TRUE(torch::equal(batch.mask, ref.attention_mask));
  imsm::ForwardInput in;
  in.input_ids = batch.ids;            // [B, T]
  in.attention_mask = batch.mask;      // [B, T]
  in.positions = batch.positions;      // [B, T]
  return in;
}

double max_abs_where(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  const torch::Tensor keep = mask.to(torch::kBool).unsqueeze(-1);  // [B, T, 1]: padded positions are not compared
  return ((a - b).abs() * keep).max().item<double>();
}

// fp32 logits of a whole forward pass computed by another implementation.
double whole_model_bound(const torch::Tensor& reference) {
  return imsm::testing::fp32_ulps(imsm::testing::kWholeModel, reference.abs().max().item<double>());
}

class HfReference : public ::testing::TestWithParam<std::string> {};

TEST_P(HfReference, HiddenLogitsAndGreedyEqualTransformers) {
  const std::string dir = reference_dir() + "/" + GetParam();
  const Reference ref = read_reference(dir + "/reference.safetensors");
  const bool bf16 = GetParam().find("bf16") != std::string::npos;
  imsm::LoadOptions load;
  load.dtype = bf16 ? torch::kBFloat16 : torch::kFloat32;
  const auto model = imsm::load_llama(dir, load);
  torch::NoGradGuard no_grad;

  const torch::Tensor hidden = model->forward_hidden(forward_input(ref));       // [B, T, d]
  const torch::Tensor logits = model->lm_head(hidden).to(torch::kFloat32);      // [B, T, V]
  const double hidden_scale = ref.hidden.abs().max().item<double>();
  const double logit_scale = ref.logits.abs().max().item<double>();
  ASSERT_GT(logit_scale, 1.0) << "logits too small for a meaningful comparison";
  const double hidden_tol = bf16 ? 0.015 * hidden_scale : imsm::testing::fp32_ulps(imsm::testing::kWholeModel, hidden_scale);
  const double logit_tol = bf16 ? 0.03 * logit_scale : imsm::testing::fp32_ulps(imsm::testing::kWholeModel, logit_scale);
  EXPECT_LE(max_abs_where(hidden.to(torch::kFloat32), ref.hidden, ref.attention_mask), hidden_tol) << GetParam();
  EXPECT_LE(max_abs_where(logits, ref.logits, ref.attention_mask), logit_tol) << GetParam() << " (max |logit| " << logit_scale << ")";
  if (bf16) return;

  ASSERT_GE(ref.margin, 1e-2) << "the reference's greedy paths have near ties; change the seed in make_models.py";
  for (const bool use_cache : {true, false}) {
    imsm::GenerateOptions options;
    options.max_new_tokens = ref.greedy.size(1);
    options.use_cache = use_cache;  // no EOS: transformers generated without one too
    const auto out = imsm::generate(*model, prompts_of(ref), options);
    const torch::Tensor& want = use_cache ? ref.greedy : ref.greedy_nocache;
    for (int64_t b = 0; b < want.size(0); ++b) {
      const auto& got = out.tokens[b];
      EXPECT_EQ(std::vector<int64_t>(got.begin(), got.end()), row_of(want, b))
          << GetParam() << " row " << b << (use_cache ? " (KV cache)" : " (no cache)");
    }
  }
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  for (char& c : n) if (c == '-') c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Transformers, HfReference,
                         ::testing::Values("llama3-tied", "llama3-untied-sharded", "mistral", "qwen2", "qwen3", "llama3-bf16"), test_name);

TEST(HfReference, CasesAreTheOnesThisTestKnows) {
  const auto cases = imsm::json::read_file(reference_dir() + "/cases.json");
  EXPECT_EQ(cases["cases"].size(), 6u) << "make_models.py and this test list different cases";
  for (const auto& c : cases["cases"]) {
    if (c["dtype"] == "float32") {
      EXPECT_GE(c["margin"].get<double>(), 1e-2) << c["name"];
    }
  }
}

// --- PEFT: adapters made by peft load here and give PeftModel's logits (fp32, the whole-model bound as above) ---

std::string adapters_dir() { return env_or("IMSM_REFERENCE_ROOT", IMSM_BUILD_DIR) + "/reference-adapters"; }

torch::Tensor engine_logits(const imsm::LlamaModel& model, const Reference& batch) {
  torch::NoGradGuard no_grad;
  return model.forward(forward_input(batch)).to(torch::kFloat32);  // [B, T, V]
}

// The batch and PeftModel's logits of make_adapters.py.
Reference read_batch(const std::string& path) {
  const auto file = imsm::SafetensorsFile::open(path);
  Reference r;
  r.input_ids = read_tensor(file, "input_ids");
  r.attention_mask = read_tensor(file, "attention_mask");
  r.logits = read_tensor(file, "logits");
  return r;
}

class PeftReference : public ::testing::TestWithParam<std::string> {};

TEST_P(PeftReference, LogitsEqualPeftModel) {
  const auto model = imsm::load_llama(adapters_dir() + "/base");
  const std::string dir = adapters_dir() + "/" + GetParam();
  const Reference ref = read_batch(dir + "/reference.safetensors");
  const torch::Tensor base_logits = engine_logits(*model, ref);  // [B, T, V]
  const auto adapters = imsm::PeftAdapters::load(*model, dir);
  const torch::Tensor logits = engine_logits(*model, ref);       // [B, T, V]
  // The adapter must matter, or equality would test nothing.
  EXPECT_GT(max_abs_where(base_logits, ref.logits, ref.attention_mask), 0.1) << GetParam();
  EXPECT_LE(max_abs_where(logits, ref.logits, ref.attention_mask), whole_model_bound(ref.logits)) << GetParam();
}


// PEFT's merge_and_unload: the adapter folded into the base weights, the model
// alone computes PeftModel's logits (the same bound: fp32, one rounding of W + ΔW).
TEST_P(PeftReference, MergedModelEqualsPeftModel) {
  const auto model = imsm::load_llama(adapters_dir() + "/base");
  const std::string dir = adapters_dir() + "/" + GetParam();
  const Reference ref = read_batch(dir + "/reference.safetensors");
  auto adapters = imsm::PeftAdapters::load(*model, dir);
  adapters->merge_and_unload();
  for (const auto& [name, linear] : model->linears()) EXPECT_FALSE(linear->adapter) << name;
  const torch::Tensor logits = engine_logits(*model, ref);  // [B, T, V]
  EXPECT_LE(max_abs_where(logits, ref.logits, ref.attention_mask), whole_model_bound(ref.logits)) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Peft, PeftReference, ::testing::Values("lora", "lora-top", "rslora", "dora", "ia3", "adalora"), test_name);

// --- The reverse: adapters trained here (a few AdamW steps on a copy task)
//     and saved; tests/reference/check_engine_adapters.py loads them with
//     PeftModel.from_pretrained and compares its logits with ours. ---

std::vector<imsm::EncodedExample> copy_task(int n, int vocab) {
  std::mt19937 rng(11);
  std::vector<imsm::EncodedExample> out;
  for (int i = 0; i < n; ++i) {
    const int32_t a = 3 + rng() % (vocab - 3), b = 3 + rng() % (vocab - 3), c = 3 + rng() % (vocab - 3);
    out.push_back({{1, a, b, c, c, b, a, 2}, {-100, -100, -100, -100, c, b, a, 2}, 4});
  }
  return out;
}

class EngineAdapters : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineAdapters, TrainedAndSavedForPeft) {
  const auto model = imsm::load_llama(adapters_dir() + "/base");
  imsm::PeftConfig pc;
  const std::string name = GetParam();
  pc.method = name == "dora" ? imsm::PeftMethod::DoRA : name == "ia3" ? imsm::PeftMethod::IA3
            : name == "adalora" ? imsm::PeftMethod::AdaLoRA : imsm::PeftMethod::LoRA;
  pc.use_rslora = name == "rslora";
  pc.r = 4;
  pc.alpha = 8;
  pc.dropout = 0.0;
  pc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  if (name == "lora-top") pc.layers_to_transform = {1};  // the top layer of two: PEFT's layers_to_transform
  if (pc.method == imsm::PeftMethod::IA3) pc.feedforward_modules = {"down_proj", "up_proj"};
  pc.adalora.target_r = 2;
  pc.adalora.tinit = 2;
  pc.adalora.orth_reg_weight = 0.1;
  pc.base_model = std::filesystem::absolute(adapters_dir() + "/base").string();
  auto adapters = imsm::PeftAdapters::attach(*model, pc, 3);
  imsm::TrainOptions o;
  o.num_epochs = 2;
  o.batch_size = 4;
  o.learning_rate = 2e-2;
  const auto data = copy_task(16, 384);
  imsm::SiameseTarget target(*model, *adapters, nullptr);
  const auto outcome = imsm::Trainer(target, data, o).run();
  ASSERT_EQ(outcome.status, imsm::RunStatus::Finished);
  const std::string out = adapters_dir() + "/engine-" + name;
  adapters->save(out);
  const Reference batch = read_batch(adapters_dir() + "/lora/reference.safetensors");
  imsm::save_tensors(out + "/engine_logits.safetensors", {{"input_ids", batch.input_ids},
                                                          {"attention_mask", batch.attention_mask},
                                                          {"logits", engine_logits(*model, batch)}});
}

INSTANTIATE_TEST_SUITE_P(Peft, EngineAdapters, ::testing::Values("lora", "lora-top", "rslora", "dora", "ia3", "adalora"), test_name);

}  // namespace
