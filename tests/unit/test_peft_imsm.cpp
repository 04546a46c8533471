// PEFT adapters and the IMSM siamese forward: textbook formulas, the original
// stream untouched by adapters, the gate's extremes, finite-difference
// gradients (fp64, central differences, relative error <= 1e-5: the truncation
// error of h = 1e-5 is ~1e-10 relative), PEFT file format and save/load.
#include <gtest/gtest.h>

#include <filesystem>

#include "tensor_tolerance.h"
#include "imsm/imsm_adapter.h"
#include "imsm/siamese.h"
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model_fixtures.h"
#include "peft/peft_model.h"
#include "test_util.h"
#include "train/trainer.h"

using imsm::testing::random_model;
using imsm::testing::TempDir;
using imsm::testing::tiny_config;

namespace {

imsm::PeftConfig peft(imsm::PeftMethod m, std::vector<std::string> targets = {"q_proj", "v_proj", "down_proj"}) {
  imsm::PeftConfig c;
  c.method = m;
  c.r = 4;
  c.alpha = 8;
  c.dropout = 0.0;
  c.target_modules = std::move(targets);
  if (m == imsm::PeftMethod::IA3) c.feedforward_modules = {"down_proj"};
  return c;
}

// Gives every adapter tensor random values (B starts at zero, l at one).
void randomise(imsm::PeftAdapters& a, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard g;
  for (auto& [name, t] : a.named_parameters()) t->copy_(at::normal(0.0, 0.2, t->sizes(), gen).to(t->scalar_type()) + (name.find("ia3") != std::string::npos || name.find("magnitude") != std::string::npos ? 1.0 : 0.0));
}

imsm::SiameseBatch batch_of(const std::vector<std::vector<int64_t>>& rows, std::vector<int64_t> query_len) {
  int64_t T = 0;
  for (const auto& r : rows) T = std::max<int64_t>(T, static_cast<int64_t>(r.size()));
  torch::Tensor ids = torch::zeros({static_cast<int64_t>(rows.size()), T}, torch::kInt64), mask = torch::zeros_like(ids);
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t t = 0; t < rows[b].size(); ++t) {
      ids[b][t] = rows[b][t];
      mask[b][t] = 1;
    }
  return {ids, mask, torch::tensor(query_len)};
}

TEST(Peft, LoraAndRsLoraEqualTheirFormula) {
  const auto c = tiny_config("qwen2");  // q/k/v bias
  auto model = random_model(c, 1, torch::kFloat64);
  for (const bool rs : {false, true}) {
    auto cfg = peft(imsm::PeftMethod::LoRA, {"q_proj"});
    cfg.use_rslora = rs;
    auto adapters = imsm::PeftAdapters::attach(*model, cfg, 3);
    randomise(*adapters, 4);
    imsm::Linear* q = model->linears().at("model.layers.0.self_attn.q_proj");
    auto* lora = dynamic_cast<imsm::LoraAdapter*>(q->adapter.get());
    const torch::Tensor x = torch::randn({2, 3, c.hidden_size}, torch::kFloat64);
    const double s = rs ? 8.0 / 2.0 : 8.0 / 4.0;  // alpha / sqrt(r) or alpha / r
    const torch::Tensor want = torch::matmul(x, (q->weight + s * torch::matmul(lora->lora_B, lora->lora_A)).t()) + q->bias;
    EXPECT_LE((q->forward(x, {}) - want).abs().max().item<double>(), 1e-12);
  }
}

TEST(Peft, DoraEqualsItsFormula) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 1, torch::kFloat64);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::DoRA, {"o_proj"}), 3);
  imsm::Linear* o = model->linears().at("model.layers.1.self_attn.o_proj");
  auto* dora = dynamic_cast<imsm::LoraAdapter*>(o->adapter.get());
  const torch::Tensor x = torch::randn({2, 3, c.hidden_size}, torch::kFloat64);
  // At initialisation (B = 0, m = ‖W‖_row) DoRA is the base layer.
  EXPECT_LE((o->forward(x, {}) - torch::matmul(x, o->weight.t())).abs().max().item<double>(), 1e-12);
  randomise(*adapters, 5);
  const torch::Tensor merged = o->weight + 2.0 * torch::matmul(dora->lora_B, dora->lora_A);  // W + s·B A
  const torch::Tensor w = dora->magnitude.view({-1, 1}) * merged / merged.norm(2, {1}, true);  // m ⊙ V / ‖V‖_row
  EXPECT_LE((o->forward(x, {}) - torch::matmul(x, w.t())).abs().max().item<double>(), 1e-12);
}

TEST(Peft, Ia3ScalesOutputsOrFeedForwardInputs) {
  const auto c = tiny_config("qwen2");
  auto model = random_model(c, 1, torch::kFloat64);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::IA3, {"k_proj", "down_proj"}), 3);
  randomise(*adapters, 6);
  imsm::Linear* k = model->linears().at("model.layers.0.self_attn.k_proj");
  imsm::Linear* down = model->linears().at("model.layers.0.mlp.down_proj");
  const torch::Tensor lk = dynamic_cast<imsm::Ia3Adapter*>(k->adapter.get())->ia3_l;
  const torch::Tensor ld = dynamic_cast<imsm::Ia3Adapter*>(down->adapter.get())->ia3_l;
  EXPECT_EQ(lk.sizes(), (std::vector<int64_t>{k->weight.size(0), 1}));  // PEFT's shapes
  EXPECT_EQ(ld.sizes(), (std::vector<int64_t>{1, down->weight.size(1)}));
  const torch::Tensor x = torch::randn({2, 3, c.hidden_size}, torch::kFloat64);
  const torch::Tensor xf = torch::randn({2, 3, c.intermediate_size}, torch::kFloat64);
  EXPECT_LE((k->forward(x, {}) - (torch::matmul(x, k->weight.t()) + k->bias) * lk.flatten()).abs().max().item<double>(), 1e-12);
  EXPECT_LE((down->forward(xf, {}) - torch::matmul(xf * ld.flatten(), down->weight.t())).abs().max().item<double>(), 1e-12);
}

TEST(Imsm, OriginalStreamIsTheBaseModelBitForBit) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 2);
  const auto batch = batch_of({{1, 5, 9, 2, 7}, {3, 4, 8}}, {3, 2});
  torch::Tensor base;
  {
    torch::NoGradGuard g;
    base = model->forward_hidden({batch.input_ids, {}, batch.attention_mask, nullptr, {}});
  }
  for (const auto m : {imsm::PeftMethod::LoRA, imsm::PeftMethod::DoRA, imsm::PeftMethod::IA3}) {
    auto adapters = imsm::PeftAdapters::attach(*model, peft(m), 3);
    randomise(*adapters, 7);
    imsm::GateConfig gc;
    gc.hidden_size = c.hidden_size;
    const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 1);
    const auto out = imsm::siamese_forward(*model, &gate, batch);
    EXPECT_TRUE(torch::equal(out.h_M, base)) << imsm::method_name(m);
    EXPECT_FALSE(torch::equal(out.h_Mp, base)) << imsm::method_name(m);  // the tuned stream does move
  }
}

TEST(Imsm, GateExtremesAndNoGate) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 2);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::LoRA), 3);
  randomise(*adapters, 8);
  const auto batch = batch_of({{1, 5, 9, 2, 7}, {3, 4, 8, 8}}, {2, 2});
  torch::NoGradGuard g;
  imsm::GateConfig gc;
  gc.hidden_size = c.hidden_size;
  gc.variant = imsm::GateVariant::NoGate;
  const imsm::ImsmGate no_gate(gc, torch::kCPU, torch::kFloat32, 0);
  const auto none = imsm::siamese_forward(*model, nullptr, batch);
  const auto avg = imsm::siamese_forward(*model, &no_gate, batch);
  EXPECT_TRUE(torch::allclose(avg.logits, model->lm_head(0.5 * avg.h_M + 0.5 * avg.h_Mp), 1e-6, 1e-6));
  // All-ones gate: the base model; all-zeros gate: the PEFT model.
  const torch::Tensor ones = torch::ones_like(avg.h_M), zeros = torch::zeros_like(avg.h_M);
  const torch::Tensor base_logits = model->lm_head(imsm::ImsmGate::interweave(ones, avg.h_M, avg.h_Mp));
  adapters.reset();
  EXPECT_TRUE(torch::equal(base_logits, model->forward({batch.input_ids, {}, batch.attention_mask, nullptr, {}})));
  EXPECT_TRUE(torch::equal(model->lm_head(imsm::ImsmGate::interweave(zeros, avg.h_M, avg.h_Mp)), none.logits));
}

TEST(Imsm, QueryGateUsesBlocksInThePapersOrder) {
  // g = sigmoid([q̄_M ⊕ h_M ⊕ h_M' ⊕ q̄_M'] W_A W_B), built here with the explicit concatenation.
  imsm::GateConfig gc;
  gc.hidden_size = 6;
  gc.rank = 3;
  gc.dropout = 0.0;
  const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat64, 4);
  const torch::Tensor hM = torch::randn({2, 5, 6}, torch::kFloat64), hMp = torch::randn({2, 5, 6}, torch::kFloat64);
  const torch::Tensor len = torch::tensor({2, 4});
  const torch::Tensor qM = imsm::query_mean(hM, len), qMp = imsm::query_mean(hMp, len);
  EXPECT_TRUE(torch::allclose(qM[1], hM[1].narrow(0, 0, 4).mean(0)));
  const torch::Tensor cat = torch::cat({qM.unsqueeze(1).expand({2, 5, 6}), hM, hMp, qMp.unsqueeze(1).expand({2, 5, 6})}, -1);  // [2, 5, 24]
  const torch::Tensor want = torch::sigmoid(torch::matmul(torch::matmul(cat, gate.gate_A.t()), gate.gate_B.t()));
  EXPECT_LE((gate.gate(hM, hMp, qM, qMp) - want).abs().max().item<double>(), 1e-12);
}

// Central-difference check of d loss / d p for a few entries of every trainable tensor.
void check_gradients(imsm::LlamaModel& model, imsm::PeftAdapters& adapters, imsm::ImsmGate* gate, bool skip_lora) {
  const auto batch = batch_of({{1, 5, 9, 2, 7, 3}, {3, 4, 8, 8}}, {3, 2});
  torch::Tensor labels = batch.input_ids.clone();
  labels.masked_fill_(batch.attention_mask == 0, -100);
  auto loss_fn = [&] { return imsm::causal_lm_loss(imsm::siamese_forward(model, gate, batch).logits, labels); };
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (auto& [name, t] : adapters.named_parameters()) params.emplace_back(name, *t);
  if (gate)
    for (const auto& [name, t] : gate->named_parameters()) params.emplace_back(name.substr(5), t);  // "gate_A.weight", ...
  for (auto& [name, p] : params) {
    if (p.grad().defined()) p.grad().zero_();
  }
  loss_fn().backward();
  int checked = 0;
  for (auto& [name, p] : params) {
    if (name.find("layers.1.") == std::string::npos && name.find("gate_") != 0) continue;  // a sample: layer 1 and the gate
    // DoRA's ‖W + s·B A‖ is detached (paper §4.3, HF PEFT): its A/B gradients are
    // checked against the detached formula in Peft.DoraGradientsFollowTheDetachedNorm.
    if (skip_lora && name.find("lora_") != std::string::npos && name.find("magnitude") == std::string::npos) continue;
    const torch::Tensor flat = p.view({-1});
    const torch::Tensor grad = p.grad().view({-1});
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 5)) {
      const double h = 1e-5, old = flat[i].item<double>();
      double up, down;
      {
        torch::NoGradGuard g;
        flat[i].fill_(old + h);
        up = loss_fn().item<double>();
        flat[i].fill_(old - h);
        down = loss_fn().item<double>();
        flat[i].fill_(old);
      }
      const double numeric = (up - down) / (2 * h), analytic = grad[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-5 * std::max(1.0, std::abs(numeric))) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GE(checked, 10);
}

TEST(Imsm, FiniteDifferenceGradients) {
  const auto c = tiny_config("llama-gqa");
  for (const auto m : {imsm::PeftMethod::LoRA, imsm::PeftMethod::DoRA, imsm::PeftMethod::IA3, imsm::PeftMethod::AdaLoRA}) {
    for (const auto v : {imsm::GateVariant::Query, imsm::GateVariant::NoQuery, imsm::GateVariant::None}) {
      auto model = random_model(c, 3, torch::kFloat64);
      auto adapters = imsm::PeftAdapters::attach(*model, peft(m), 3);
      randomise(*adapters, 9);
      imsm::GateConfig gc;
      gc.hidden_size = c.hidden_size;
      gc.variant = v;
      gc.dropout = 0.0;
      const auto gate = v == imsm::GateVariant::None ? nullptr : std::make_unique<imsm::ImsmGate>(gc, torch::kCPU, torch::kFloat64, 2);
      SCOPED_TRACE(imsm::method_name(m) + " / " + imsm::variant_name(v));
      check_gradients(*model, *adapters, gate.get(), m == imsm::PeftMethod::DoRA);
    }
  }
}

TEST(Peft, DoraGradientsFollowTheDetachedNorm) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 1, torch::kFloat64);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::DoRA, {"up_proj"}), 3);
  randomise(*adapters, 5);
  imsm::Linear* up = model->linears().at("model.layers.0.mlp.up_proj");
  auto* dora = dynamic_cast<imsm::LoraAdapter*>(up->adapter.get());
  const torch::Tensor x = torch::randn({2, 3, c.hidden_size}, torch::kFloat64);
  const torch::Tensor r = torch::randn({2, 3, c.intermediate_size}, torch::kFloat64);
  (up->forward(x, {}) * r).sum().backward();
  const torch::Tensor gA = dora->lora_A.grad().clone(), gB = dora->lora_B.grad().clone(), gm = dora->magnitude.grad().clone();
  // The textbook formula written out, with the row norm detached.
  const torch::Tensor A = dora->lora_A.detach().clone().requires_grad_(true), B = dora->lora_B.detach().clone().requires_grad_(true),
                      m = dora->magnitude.detach().clone().requires_grad_(true);
  const torch::Tensor V = up->weight + 2.0 * torch::matmul(B, A);
  const torch::Tensor w = m.view({-1, 1}) * V / V.norm(2, {1}, true).detach();
  (torch::matmul(x, w.t()) * r).sum().backward();
  EXPECT_LE((gA - A.grad()).abs().max().item<double>(), 1e-12);
  EXPECT_LE((gB - B.grad()).abs().max().item<double>(), 1e-12);
  EXPECT_LE((gm - m.grad()).abs().max().item<double>(), 1e-12);
}

TEST(Peft, SaveLoadGivesIdenticalLogitsAndPeftNames) {
  const auto c = tiny_config("llama-gqa");
  const auto batch = batch_of({{1, 5, 9, 2, 7}}, {2});
  for (const auto m : {imsm::PeftMethod::LoRA, imsm::PeftMethod::DoRA, imsm::PeftMethod::IA3}) {
    auto model = random_model(c, 4);
    TempDir dir;
    torch::Tensor want;
    {
      auto adapters = imsm::PeftAdapters::attach(*model, peft(m), 3);
      randomise(*adapters, 10);
      imsm::GateConfig gc;
      gc.hidden_size = c.hidden_size;
      const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 5);
      torch::NoGradGuard g;
      want = imsm::siamese_forward(*model, &gate, batch).logits;
      adapters->save(dir.path().string());
      gate.save(dir.path().string());
    }
    // PEFT's file layout.
    const auto config = imsm::json::read_file(dir.file("adapter_config.json"));
    const auto file = imsm::SafetensorsFile::open(dir.file("adapter_model.safetensors"));
    if (m == imsm::PeftMethod::IA3) {
      EXPECT_EQ(config["peft_type"], "IA3");
      EXPECT_EQ(config["feedforward_modules"], nlohmann::json({"down_proj"}));
      EXPECT_NE(file.find("base_model.model.model.layers.0.mlp.down_proj.ia3_l"), nullptr);
    } else {
      EXPECT_EQ(config["peft_type"], "LORA");
      EXPECT_EQ(config["r"], 4);
      EXPECT_EQ(config["lora_alpha"], 8.0);
      EXPECT_EQ(config["use_dora"], m == imsm::PeftMethod::DoRA);
      EXPECT_EQ(config["target_modules"], nlohmann::json({"q_proj", "v_proj", "down_proj"}));
      const auto* a = file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
      ASSERT_NE(a, nullptr);
      EXPECT_EQ(a->shape, (std::vector<int64_t>{4, c.hidden_size}));
      EXPECT_NE(file.find("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"), nullptr);
      if (m == imsm::PeftMethod::DoRA) {
        EXPECT_NE(file.find("base_model.model.model.layers.1.mlp.down_proj.lora_magnitude_vector.weight"), nullptr);
      }
    }
    const auto gate_file = imsm::SafetensorsFile::open(dir.file("imsm_gate.safetensors"));
    EXPECT_EQ(gate_file.find("imsm.gate_A.weight")->shape, (std::vector<int64_t>{8, 4 * c.hidden_size}));
    EXPECT_EQ(gate_file.find("imsm.gate_B.weight")->shape, (std::vector<int64_t>{c.hidden_size, 8}));
    EXPECT_EQ(imsm::json::read_file(dir.file("imsm_config.json"))["variant"], "query");

    auto adapters = imsm::PeftAdapters::load(*model, dir.path().string());
    const auto gate = imsm::ImsmGate::load(dir.path().string(), torch::kCPU, torch::kFloat32);
    torch::NoGradGuard g;
    EXPECT_TRUE(torch::equal(imsm::siamese_forward(*model, gate.get(), batch).logits, want)) << imsm::method_name(m);
  }
}

TEST(Imsm, NoGateAndNoneAdaptersHaveNoGateWeights) {
  const auto c = tiny_config("llama-gqa");
  const auto batch = batch_of({{1, 5, 9, 2, 7}}, {2});
  for (const auto v : {imsm::GateVariant::NoGate, imsm::GateVariant::None}) {
    auto model = random_model(c, 4);
    TempDir dir;
    torch::Tensor want;
    {
      auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::LoRA), 3);
      randomise(*adapters, 10);
      imsm::GateConfig gc;
      gc.hidden_size = c.hidden_size;
      gc.variant = imsm::GateVariant::Query;
      imsm::ImsmGate(gc, torch::kCPU, torch::kFloat32, 5).save(dir.path().string());  // a stale query gate first
      torch::NoGradGuard g;
      if (v == imsm::GateVariant::None) {  // a folder that says "none": the PEFT method alone
        want = imsm::siamese_forward(*model, nullptr, batch).logits;
        imsm::json::write_file(dir.file("imsm_config.json"), {{"variant", "none"}, {"gate_rank", 8}, {"hidden_size", c.hidden_size}});
        std::filesystem::remove(dir.file("imsm_gate.safetensors"));  // what a run of the variant none leaves: no gate weights
      } else {
        gc.variant = v;
        const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 5);
        want = imsm::siamese_forward(*model, &gate, batch).logits;
        gate.save(dir.path().string());
      }
      adapters->save(dir.path().string());
    }
    SCOPED_TRACE(imsm::variant_name(v));
    if (v == imsm::GateVariant::NoGate) {
      EXPECT_FALSE(std::filesystem::exists(dir.file("imsm_gate.safetensors"))) << "the stale weights stayed";
    }
    EXPECT_EQ(imsm::json::read_file(dir.file("imsm_config.json"))["variant"], imsm::variant_name(v));
    auto model2 = random_model(c, 4);
    const imsm::LoadedAdapter loaded = imsm::load_adapter(*model2, dir.path().string());
    EXPECT_EQ(loaded.gate == nullptr, v == imsm::GateVariant::None);
    torch::NoGradGuard g;
    EXPECT_TRUE(torch::equal(imsm::siamese_forward(*model2, loaded.gate.get(), batch).logits, want));
  }
  // A query gate without its weights is named.
  auto model = random_model(c, 4);
  TempDir dir;
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::LoRA), 3);
  adapters->save(dir.path().string());
  imsm::json::write_file(dir.file("imsm_config.json"), {{"variant", "query"}, {"gate_rank", 8}, {"hidden_size", c.hidden_size}});
  adapters.reset();
  try {
    imsm::load_adapter(*model, dir.path().string());
    FAIL() << "loaded a query gate without weights";
  } catch (const imsm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no imsm_gate.safetensors"), std::string::npos) << e.what();
  }
}

TEST(Peft, BadAdapterFilesNameTheProblem) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 4);
  TempDir dir;
  {
    auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::LoRA), 3);
    adapters->save(dir.path().string());
  }
  auto config = imsm::json::read_file(dir.file("adapter_config.json"));
  config["target_modules"] = {"q_proj", "qkv_proj"};
  imsm::testing::write_file(dir.file("adapter_config.json"), config.dump());
  imsm::testing::expect_bad_input([&] { imsm::PeftAdapters::load(*model, dir.path().string()); }, {"adapter_config.json", "\"qkv_proj\""});
  config["target_modules"] = {"q_proj", "v_proj", "down_proj", "o_proj"};
  imsm::testing::write_file(dir.file("adapter_config.json"), config.dump());
  imsm::testing::expect_bad_input([&] { imsm::PeftAdapters::load(*model, dir.path().string()); },
                                  {"adapter_model.safetensors", "missing tensor", "o_proj.lora_A.weight"});
  config["target_modules"] = {"q_proj", "v_proj", "down_proj"};
  config["r"] = 5;
  imsm::testing::write_file(dir.file("adapter_config.json"), config.dump());
  imsm::testing::expect_bad_input([&] { imsm::PeftAdapters::load(*model, dir.path().string()); }, {"lora_A.weight", "shape"});
}

}  // namespace

#include "imsm/imsm_generate.h"
#include "model/generate.h"

namespace {

// With the inspector's trace on (top-k of each stream), which must not change the mix:
// each stream's distribution equals that stream computed alone — the original by the
// same base without adapters, the tuned by the adapted model on its own, the mix by
// the siamese reference forward.
TEST(ImsmGenerate, TwoStreamBatchEqualsTheSiameseForward) {
  const auto c = tiny_config("llama-gqa");
  auto base = random_model(c, 2);
  auto model = random_model(c, 2);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::LoRA), 3);
  randomise(*adapters, 8);
  imsm::GateConfig gc;
  gc.hidden_size = c.hidden_size;
  const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 1);
  const std::vector<int64_t> prompt = {1, 5, 9, 2, 7};
  torch::NoGradGuard g;
  const auto ref = imsm::siamese_forward(*model, &gate, batch_of({prompt}, {5}));
  imsm::ImsmStep step(*model, gate, true);
  step.set_trace_top_k(5);
  const torch::Tensor ids = torch::tensor(prompt).view({1, -1});
  const torch::Tensor logits = step.next_logits(ids, torch::arange(5).view({1, -1}), torch::Tensor());  // [1, V]
  // Cached decoding against the whole sequence: other shapes, the model's fp32 rounding (tolerance.h).
  EXPECT_TRUE(imsm::testing::close_at_scale(logits[0], ref.logits[0][4], imsm::testing::kWholeModel));
  // A gate value lies in (0, 1): its rounding is relative to 1 (the hidden states feeding it carry the model's).
  EXPECT_NEAR(step.last_gate_mean()[0].item<double>(), ref.gate[0][4].mean().item<double>(),
              imsm::testing::fp32_ulps(imsm::testing::kWholeModel, 1.0));
  imsm::ForwardInput in;
  in.input_ids = ids;
  in.positions = torch::arange(5).view({1, -1});
  const torch::Tensor streams[3] = {base->forward(in)[0][4], model->forward(in)[0][4], ref.logits[0][4]};  // [V] each
  ASSERT_EQ(step.last_top_ids().sizes(), (std::vector<int64_t>{3, 1, 5}));
  for (int s = 0; s < 3; ++s) {
    const auto top = streams[s].softmax(-1).topk(5);
    EXPECT_TRUE(torch::equal(step.last_top_ids()[s][0].to(torch::kInt64), std::get<1>(top))) << "stream " << s;
    // p = softmax(logits): dp <= dlogit (|dp/dz| <= 1/4 per logit, summed over two), so the logits' bound.
    const double bound = imsm::testing::fp32_ulps(imsm::testing::kWholeModel, streams[s].abs().max().item<double>());
    EXPECT_LE((step.last_top_probs()[s][0] - std::get<0>(top)).abs().max().item<double>(), bound) << "stream " << s;
  }
  // The streams differ (the adapters and the gate do something), so the test can tell them apart.
  EXPECT_GT((streams[0] - streams[1]).abs().max().item<double>(), 1e-3);
}

TEST(ImsmGenerate, CachedEqualsUncachedAndPaddedRowsEqualRowsAlone) {
  const auto c = tiny_config("qwen2");
  auto model = random_model(c, 2);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::DoRA), 3);
  randomise(*adapters, 8);
  imsm::GateConfig gc;
  gc.hidden_size = c.hidden_size;
  const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 1);
  const std::vector<std::vector<int32_t>> prompts = {{4, 9, 2, 7, 7, 30}, {11, 3}};
  imsm::GenerateOptions opt;
  opt.max_new_tokens = 6;
  imsm::ImsmStep cached(*model, gate, true);
  const auto a = imsm::generate(cached, prompts, opt);
  opt.use_cache = false;
  imsm::ImsmStep uncached(*model, gate, false);
  const auto b = imsm::generate(uncached, prompts, opt);
  opt.use_cache = true;
  for (size_t r = 0; r < prompts.size(); ++r) {
    EXPECT_EQ(a.tokens[r], b.tokens[r]);
    ASSERT_EQ(a.gate_mean[r].size(), a.tokens[r].size());
    for (size_t t = 0; t < a.gate_mean[r].size(); ++t) {
      // A gate mean lies in (0, 1): the model's rounding relative to 1 (tolerance.h).
      EXPECT_NEAR(a.gate_mean[r][t], b.gate_mean[r][t], imsm::testing::fp32_ulps(imsm::testing::kWholeModel, 1.0));
      EXPECT_GT(a.gate_mean[r][t], 0.0f);
      EXPECT_LT(a.gate_mean[r][t], 1.0f);
    }
    imsm::ImsmStep alone(*model, gate, true);
    const auto single = imsm::generate(alone, {prompts[r]}, opt);
    EXPECT_EQ(single.tokens[0], a.tokens[r]) << "row " << r;
    for (size_t t = 0; t < single.gate_mean[0].size(); ++t)
      EXPECT_NEAR(single.gate_mean[0][t], a.gate_mean[r][t], imsm::testing::fp32_ulps(imsm::testing::kWholeModel, 1.0));
  }
}

// Prompts that share a prefix (model/generate.h): it runs once and its cache
// is repeated for both streams; rows that end leave the batch; each row
// generates what it generates alone,
// with the gate's query means over the whole prompt, prefix included. With
// adapters on every layer, and on the top layer only (the lower layer's cache
// then holds one stream).
TEST(ImsmGenerate, ASharedPrefixGeneratesWhatEachRowGeneratesAlone) {
  const auto c = tiny_config("llama");
  const std::vector<int32_t> instruction = {4, 9, 2, 7, 7, 30, 11, 3, 5, 6};
  std::vector<std::vector<int32_t>> prompts(3, instruction);
  prompts[0].insert(prompts[0].end(), {7, 7, 30});
  prompts[1].insert(prompts[1].end(), {3});
  prompts[2].insert(prompts[2].end(), {5, 6, 8, 1});
  for (const std::vector<int64_t>& layers : {std::vector<int64_t>{}, std::vector<int64_t>{1}}) {
    auto model = random_model(c, 2);
    imsm::PeftConfig pc = peft(imsm::PeftMethod::LoRA);
    pc.layers_to_transform = layers;
    auto adapters = imsm::PeftAdapters::attach(*model, pc, 3);
    randomise(*adapters, 8);
    ASSERT_EQ(model->first_adapted_layer(), layers.empty() ? 0 : 1);
    imsm::GateConfig gc;
    gc.hidden_size = c.hidden_size;
    const imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 1);
    imsm::GenerateOptions opt;
    opt.max_new_tokens = 6;
    // Row 1's first token ends it (and others where they say it): the rows
    // that end leave the batch, the others keep their two streams' caches
    // and their query means (keep_rows).
    imsm::ImsmStep first(*model, gate, true);
    opt.eos_ids = {imsm::generate(first, {prompts[1]}, opt).tokens[0][0]};
    imsm::testing::RowRecorder<imsm::ImsmStep> shared(*model, gate, true);
    std::vector<std::vector<float>> seen(prompts.size());  // each token's full gate, read at its slot, averaged
    const auto together = imsm::generate(shared, prompts, opt, {}, [&](int64_t row, int64_t slot, int32_t) {
      seen[static_cast<size_t>(row)].push_back(shared.last_gate()[slot].mean().item<float>());
    });
    for (size_t r = 0; r < prompts.size(); ++r) EXPECT_EQ(seen[r], together.gate_mean[r]) << "row " << r << ": its slot's gate";
    EXPECT_EQ(together.tokens[1].size(), 1u);
    EXPECT_EQ(shared.rows.back(), 2) << "row 1 ended at once and stayed in the batch";
    for (size_t r = 0; r < prompts.size(); ++r) {
      imsm::ImsmStep alone(*model, gate, true);
      const auto single = imsm::generate(alone, {prompts[r]}, opt);
      EXPECT_EQ(single.tokens[0], together.tokens[r]) << "row " << r;
      ASSERT_EQ(single.gate_mean[0].size(), together.gate_mean[r].size());
      // A gate mean lies in (0, 1): the model's rounding relative to 1 (tolerance.h), the query's sums split in two.
      for (size_t t = 0; t < single.gate_mean[0].size(); ++t)
        EXPECT_NEAR(single.gate_mean[0][t], together.gate_mean[r][t], imsm::testing::fp32_ulps(imsm::testing::kWholeModel, 1.0)) << "row " << r;
    }
  }
}

}  // namespace

namespace {

TEST(AdaLora, ForwardEqualsItsFormula) {
  const auto c = tiny_config("qwen2");
  auto model = random_model(c, 1, torch::kFloat64);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::AdaLoRA, {"q_proj"}), 3);
  randomise(*adapters, 4);
  imsm::Linear* q = model->linears().at("model.layers.0.self_attn.q_proj");
  auto* a = dynamic_cast<imsm::AdaLoraAdapter*>(q->adapter.get());
  const torch::Tensor x = torch::randn({2, 3, c.hidden_size}, torch::kFloat64);
  // W x + b + alpha / (r + 1e-5) · B diag(E) A x, alpha = 8, r = 4.
  const torch::Tensor delta = torch::matmul(a->lora_B, torch::matmul(torch::diag(a->lora_E.view(-1)), a->lora_A));
  const torch::Tensor want = torch::matmul(x, (q->weight + 8.0 / (4 + 1e-5) * delta).t()) + q->bias;
  EXPECT_LE((q->forward(x, {}) - want).abs().max().item<double>(), 1e-12);
  // PEFT's names: no ".weight" (ParameterDicts).
  const auto names = adapters->named_parameters();
  EXPECT_EQ(names[0].first, "base_model.model.model.layers.0.self_attn.q_proj.lora_A");
}

imsm::AdaLoraSettings schedule_settings() {
  imsm::AdaLoraSettings s;
  s.target_r = 2;
  s.tinit = 2;
  s.tfinal = 3;
  s.total_step = 20;
  return s;
}

TEST(AdaLora, BudgetScheduleAndMasking) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 1);
  auto cfg = peft(imsm::PeftMethod::AdaLoRA, {"q_proj", "v_proj"});  // 2 layers x 2 = 4 modules, init_r 4
  auto adapters = imsm::PeftAdapters::attach(*model, cfg, 3);
  randomise(*adapters, 4);
  std::map<std::string, imsm::AdaLoraAdapter*> modules;
  for (auto& [name, linear] : model->linears())
    if (linear->adapter) modules[name] = dynamic_cast<imsm::AdaLoraAdapter*>(linear->adapter.get());
  imsm::RankAllocator alloc(modules, schedule_settings(), 4);
  // init budget 16, target 8: cubic decay between tinit = 2 and total - tfinal = 17.
  EXPECT_EQ(alloc.budget_schedule(2), (std::pair<int64_t, bool>(16, false)));
  EXPECT_EQ(alloc.budget_schedule(18), (std::pair<int64_t, bool>(8, true)));
  EXPECT_EQ(alloc.budget_schedule(7).first, 10);  // 8 · (1 − 5/15)³ + 8 = 10.37
  // Importance chosen by hand: triplet i of module k scores (k + 1) · 10 + i, so the
  // six lowest are module 0's four ranks and module 1's ranks 0 and 1.
  std::vector<std::pair<std::string, torch::Tensor>> state;
  int k = 0;
  for (const auto& [name, a] : modules) {
    const torch::Tensor e = (torch::arange(4, torch::kFloat32) + (k + 1) * 10.0).view({4, 1});
    state.emplace_back(name + "/E/ipt", e);
    state.emplace_back(name + "/E/unc", torch::ones({4, 1}));
    for (const char* slot : {"A", "B"}) {
      const auto shape = std::string(slot) == "A" ? a->lora_A.sizes() : a->lora_B.sizes();
      state.emplace_back(name + "/" + slot + "/ipt", torch::zeros(shape));
      state.emplace_back(name + "/" + slot + "/unc", torch::zeros(shape));
    }
    ++k;
  }
  alloc.load_state(state);
  const auto& pattern = alloc.mask_to_budget(10);  // prune 16 - 10 = 6 triplets
  auto it = modules.begin();
  EXPECT_EQ(pattern.at(it->first), (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(it->second->lora_E.abs().sum().item<double>(), 0.0);
  ++it;
  EXPECT_EQ(pattern.at(it->first), (std::vector<bool>{false, false, true, true}));
  EXPECT_EQ(it->second->lora_E[0].item<double>(), 0.0);
  EXPECT_NE(it->second->lora_E[3].item<double>(), 0.0);
  ++it;
  EXPECT_EQ(pattern.at(it->first), (std::vector<bool>{true, true, true, true}));
}

TEST(AdaLora, OrthogonalRegularizationByHand) {
  const auto c = tiny_config("llama-gqa");
  auto model = random_model(c, 1, torch::kFloat64);
  auto adapters = imsm::PeftAdapters::attach(*model, peft(imsm::PeftMethod::AdaLoRA, {"q_proj"}), 3);
  std::map<std::string, imsm::AdaLoraAdapter*> modules;
  for (auto& [name, linear] : model->linears())
    if (linear->adapter) modules[name] = dynamic_cast<imsm::AdaLoraAdapter*>(linear->adapter.get());
  imsm::RankAllocator alloc(modules, schedule_settings(), 4);
  double want = 0;
  for (const auto& [name, a] : modules) {
    for (const bool is_A : {true, false}) {
      const torch::Tensor p = is_A ? a->lora_A.detach() : a->lora_B.detach();
      const int64_t r = 4, n = is_A ? p.size(1) : p.size(0);
      double fro = 0;
      for (int64_t i = 0; i < r; ++i)
        for (int64_t j = 0; j < r; ++j) {
          double dot = 0;
          for (int64_t t = 0; t < n; ++t) dot += is_A ? p[i][t].item<double>() * p[j][t].item<double>() : p[t][i].item<double>() * p[t][j].item<double>();
          fro += std::pow(dot - (i == j ? 1.0 : 0.0), 2);
        }
      want += std::sqrt(fro);
    }
  }
  want /= 2.0 * static_cast<double>(modules.size());
  EXPECT_NEAR(alloc.orthogonal_regularization().item<double>(), want, 1e-10);
}

}  // namespace
