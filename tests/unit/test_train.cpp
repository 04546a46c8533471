// Datasets, the official tokenization, the schedule, and short training runs.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>

#include "model_fixtures.h"
#include "peft/peft_model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tolerance.h"
#include "train/trainer.h"
#include "train_fixtures.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;
using imsm::testing::char_tokenizer_json;
using Workspace = imsm::testing::TrainWorkspace;

namespace {

TEST(Dataset, ReadsOfficialAndAlpacaFormats) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"input\": \"abc\", \"output\": \"d\"}\n\n{\"input\": \"x\", \"output\": [\"yes\", \"y\"]}\n");
  auto ex = imsm::read_examples(dir.file("a.jsonl"));
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[1].answer, "yes");  // a list of golds trains on its first item
  write_file(dir.file("b.json"), R"([{"instruction": "add", "input": "one two", "output": "three"}, {"instruction": "hi", "output": "ho"}])");
  ex = imsm::read_examples(dir.file("b.json"));
  EXPECT_EQ(ex[0].prompt, "add\none two");
  EXPECT_EQ(ex[1].prompt, "hi");
  imsm::DatasetFields fields;
  fields.input = "question";
  fields.output = "answer";
  write_file(dir.file("c.jsonl"), "{\"question\": \"q\", \"answer\": \"a\"}\n");
  EXPECT_EQ(imsm::read_examples(dir.file("c.jsonl"), fields)[0].answer, "a");
}

TEST(Dataset, BadFilesNameTheLine) {
  TempDir dir;
  write_file(dir.file("a.jsonl"), "{\"input\": \"abc\", \"output\": \"d\"}\n{\"input\": \"abc\"}\n");
  expect_bad_input([&] { imsm::read_examples(dir.file("a.jsonl")); }, {"a.jsonl:2", "missing field \"output\""});
  write_file(dir.file("b.jsonl"), "{\"input\": \"abc\", \"output\": \"d\"}\n{\"input\": \"abc\", \n");
  expect_bad_input([&] { imsm::read_examples(dir.file("b.jsonl")); }, {"b.jsonl:2:", "malformed JSON"});
  write_file(dir.file("c.json"), R"([{"input": "a", "output": "b"}, {"input": 3.5, "output": {}}])");
  expect_bad_input([&] { imsm::read_examples(dir.file("c.json")); }, {"c.json: record 2", "\"output\""});
  write_file(dir.file("d.jsonl"), "\n\n");
  expect_bad_input([&] { imsm::read_examples(dir.file("d.jsonl")); }, {"d.jsonl", "empty"});
}

TEST(Dataset, TokenizesAsTheOfficialLoader) {
  TempDir dir;
  write_file(dir.file("tokenizer.json"), char_tokenizer_json());
  const auto tok = imsm::load_tokenizer(dir.file("tokenizer.json"));
  // Prompt "abcd" with BOS = [0 3 4 5 6], cut to 3; answer "xyz" cut to max_output - 1 = 2, then EOS.
  const auto e = imsm::encode_example(*tok, {"abcd", "xyz"}, 3, 3, 1);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{0, 3, 4, 26, 27, 1}));
  EXPECT_EQ(e.labels, (std::vector<int32_t>{-100, -100, -100, 26, 27, 1}));
  EXPECT_EQ(e.query_len, 3);
}

TEST(Train, ScheduleWarmsUpThenDecays) {
  imsm::TrainOptions o;
  o.learning_rate = 1.0;
  o.warmup_ratio = 0.1;
  EXPECT_DOUBLE_EQ(imsm::scheduled_lr(o, 0, 100), 0.1);   // step 1 of 10 warm-up steps
  EXPECT_DOUBLE_EQ(imsm::scheduled_lr(o, 9, 100), 1.0);
  EXPECT_NEAR(imsm::scheduled_lr(o, 55, 100), 0.5, 1e-12);  // cosine half way through the 90 decay steps
  o.lr_schedule = imsm::LrSchedule::Linear;
  EXPECT_NEAR(imsm::scheduled_lr(o, 55, 100), 0.5, 1e-12);
  EXPECT_NEAR(imsm::scheduled_lr(o, 99, 100), 1.0 / 90, 1e-12);
}

// Copy task on a tiny random model: prompt <s> a b c, answer c b a </s>.
std::vector<imsm::EncodedExample> copy_task(int n) {
  std::mt19937 rng(5);
  std::vector<imsm::EncodedExample> out;
  for (int i = 0; i < n; ++i) {
    const int32_t a = 3 + rng() % 30, b = 3 + rng() % 30, c = 3 + rng() % 30;
    imsm::EncodedExample e;
    e.ids = {0, a, b, c, c, b, a, 1};
    e.labels = {-100, -100, -100, -100, c, b, a, 1};
    e.query_len = 4;
    out.push_back(e);
  }
  return out;
}

TEST(Train, EveryMethodAndVariantLowersTheLoss) {
  const auto c = imsm::testing::tiny_config("llama-gqa");
  const auto data = copy_task(48);
  for (const auto m : {imsm::PeftMethod::LoRA, imsm::PeftMethod::DoRA, imsm::PeftMethod::IA3, imsm::PeftMethod::AdaLoRA}) {
    for (const auto v : {imsm::GateVariant::Query, imsm::GateVariant::NoQuery, imsm::GateVariant::NoGate, imsm::GateVariant::None}) {
      auto model = imsm::testing::random_model(c, 6);
      imsm::PeftConfig pc;
      pc.method = m;
      pc.r = 8;
      pc.alpha = 16;
      pc.target_modules = {"q_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
      if (m == imsm::PeftMethod::IA3) pc.feedforward_modules = {"down_proj"};
      auto adapters = imsm::PeftAdapters::attach(*model, pc, 1);
      imsm::GateConfig gc;
      gc.hidden_size = c.hidden_size;
      gc.variant = v;
      const auto gate = v == imsm::GateVariant::None ? nullptr : std::make_unique<imsm::ImsmGate>(gc, torch::kCPU, torch::kFloat32, 2);
      imsm::TrainOptions o;
      o.num_epochs = 6;
      o.batch_size = 8;
      o.learning_rate = m == imsm::PeftMethod::IA3 ? 5e-2 : 1e-2;
      pc.adalora.target_r = 4;
      pc.adalora.orth_reg_weight = 0.1;
      o.warmup_ratio = 0.1;
      int reports = 0;
      imsm::Hooks hooks;
      hooks.on_step = [&](const imsm::StepRecord& r) {
        ++reports;
        EXPECT_GT(r.tokens_per_second, 0);
        EXPECT_EQ(r.total_steps, 36);
      };
      imsm::SiameseTarget target(*model, *adapters, gate.get());
      const auto outcome = imsm::Trainer(target, data, o).run(hooks);
      SCOPED_TRACE(imsm::method_name(m) + " / " + imsm::variant_name(v));
      EXPECT_EQ(outcome.status, imsm::RunStatus::Finished);
      ASSERT_EQ(outcome.losses.size(), 36u);
      EXPECT_EQ(reports, 36);
      const double first = outcome.losses.front();
      const double last = (outcome.losses[33] + outcome.losses[34] + outcome.losses[35]) / 3;
      EXPECT_LT(last, 0.75 * first) << "first " << first << " last " << last;
    }
  }
}

TEST(Train, CancelAndDiverge) {
  const auto c = imsm::testing::tiny_config("llama-gqa");
  auto model = imsm::testing::random_model(c, 6);
  imsm::PeftConfig pc;
  auto adapters = imsm::PeftAdapters::attach(*model, pc, 1);
  imsm::TrainOptions o;
  o.num_epochs = 2;
  int calls = 0;
  const auto data = copy_task(16);
  imsm::SiameseTarget target(*model, *adapters, nullptr);
  imsm::Trainer trainer(target, data, o);
  imsm::Hooks stop;
  stop.should_abort = [&] { return ++calls > 2; };
  const std::string message = imsm::testing::expect_cancelled([&] { trainer.run(stop); });
  EXPECT_EQ(trainer.step(), 2);
  EXPECT_NE(message.find("at step 2"), std::string::npos) << message;
  o.learning_rate = 1e30;  // the first update blows the adapter up
  o.max_grad_norm = 0;
  const auto diverged = imsm::Trainer(target, data, o).run();
  EXPECT_EQ(diverged.status, imsm::RunStatus::Diverged);
  EXPECT_FALSE(std::isfinite(diverged.losses.back()));
  o.learning_rate = -1;
  expect_bad_input([&] { imsm::Trainer(target, data, o); }, {"learning_rate"});
}

}  // namespace

#include <filesystem>

#include "config/train_config.h"
#include "imsm/siamese.h"
#include "io/safetensors.h"
#include "model/loader.h"
#include "recipes/create_model.h"
#include "recipes/generate.h"
#include "recipes/train.h"
#include "train/dataset.h"
#include "views/run_table.h"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The gate probe: it leaves training's random stream alone (the same losses
// with and without it, dropout on), is reported about 50 times a run but no
// more often than keeps it near 5% of the training's time, and at the last step, and its last value equals the mean gate over the answer
// positions recomputed here from the saved adapter, position by position —
// on the first training examples by default, or on a validation file's.
TEST(TrainRecipe, GateProbeLeavesTrainingAloneAndEqualsTheSavedGate) {
  Workspace w;
  std::string held_out;
  for (const char* word : {"zebra", "quilt", "mango", "ivory", "tulip"}) held_out += std::string("{\"input\": \"copy ") + word + "\", \"output\": \"" + word + "\"}\n";
  const std::string validation = w.dir.file("validation.jsonl");
  write_file(validation, held_out);
  auto cfg = w.config(w.dir.file("probe-off"));
  cfg["gate_probe_examples"] = 0;
  const auto off = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  for (const std::string& probe_data : {std::string(), validation}) {
    SCOPED_TRACE(probe_data.empty() ? "training examples" : "validation file");
    cfg["gate_probe_examples"] = 4;
    cfg["gate_probe_data"] = probe_data;
    const std::string out = w.dir.file(probe_data.empty() ? "probe-train" : "probe-validation");
    cfg["output_dir"] = out;
    std::vector<imsm::StepRecord> seen;
    imsm::Hooks hooks;
    hooks.on_step = [&](const imsm::StepRecord& p) { seen.push_back(p); };
    const auto on = imsm::run_train(imsm::parse_train_config(cfg, "test"), hooks);
    ASSERT_EQ(off.losses.size(), on.losses.size());
    for (size_t i = 0; i < on.losses.size(); ++i) EXPECT_EQ(off.losses[i], on.losses[i]) << "step " << i + 1;
    ASSERT_EQ(seen.size(), 15u);
    // 4 probe rows are a forward of 4 against a step's forward and backward of 8 (about 3 forwards): 4/24 of a
    // step; every ceil(4/24 / 0.05) = 4 steps keeps the probes near 5%. Steps 4, 8, 12 and the last, 15.
    for (const auto& p : seen) {
      const bool probed = p.step % 4 == 0 || p.step == 15;
      if (probed) EXPECT_GT(p.gate_mean, 0.0) << "step " << p.step;
      else EXPECT_LT(p.gate_mean, 0.0) << "step " << p.step << " is not probed";
    }
    const double last = seen.back().gate_mean;
    EXPECT_LT(last, 1.0);

    // Recompute: the saved IMSM adapter, the first 4 probe examples, one at a time, answer positions only.
    auto model = imsm::load_llama(w.model, {});
    auto adapters = imsm::PeftAdapters::load(*model, out + "/adapter");
    const auto gate = imsm::ImsmGate::load(out + "/adapter", torch::kCPU, torch::kFloat32);
    const auto tokenizer = imsm::load_tokenizer(w.model);
    const auto examples = imsm::read_examples(probe_data.empty() ? w.data : probe_data);
    double sum = 0;
    int64_t n = 0;
    torch::Tensor per_dim;  // [D]: the sum over the answer positions
    torch::NoGradGuard g;
    for (size_t i = 0; i < 4; ++i) {
      const auto e = imsm::encode_example(*tokenizer, examples[i], 512, 512, tokenizer->eos_ids().at(0));
      const int64_t T = static_cast<int64_t>(e.ids.size());
      std::vector<int64_t> ids(e.ids.begin(), e.ids.end());
      imsm::SiameseBatch b;
      b.input_ids = torch::tensor(ids).view({1, T});
      b.query_len = torch::tensor(std::vector<int64_t>{e.query_len});
      const auto result = imsm::siamese_forward(*model, gate.get(), b);
      for (int64_t t = 0; t + 1 < T; ++t)
        if (e.labels[static_cast<size_t>(t + 1)] != -100) {
          sum += result.gate[0][t].mean().item<double>();
          per_dim = per_dim.defined() ? per_dim + result.gate[0][t].to(torch::kFloat64) : result.gate[0][t].to(torch::kFloat64);
          ++n;
        }
    }
    ASSERT_GT(n, 0);
    EXPECT_NEAR(last, sum / static_cast<double>(n), 1e-5);  // fp32 gate, means of 32 dims: well inside 1e-5
    // The waterfall's file: a line per probe, the last one each dimension's mean over the same positions.
    imsm::store::RunRecord run;
    run.output_dir = out;
    const auto probes = imsm::gate_probes_of(run);
    ASSERT_EQ(probes.size(), 4u);
    EXPECT_EQ(probes.back().step, 15);
    ASSERT_EQ(probes.back().gate.size(), static_cast<size_t>(per_dim.numel()));
    double mean_of_dims = 0;
    for (int64_t d = 0; d < per_dim.numel(); ++d) {
      EXPECT_NEAR(probes.back().gate[static_cast<size_t>(d)], per_dim[d].item<double>() / static_cast<double>(n), 1e-5) << "dimension " << d;
      mean_of_dims += probes.back().gate[static_cast<size_t>(d)] / static_cast<double>(per_dim.numel());
    }
    EXPECT_NEAR(mean_of_dims, last, 1e-6);  // the step record's mean is the dimensions' mean (float32 in the file)
  }
  // A probe file that is not there is named before training starts.
  cfg["gate_probe_data"] = w.dir.file("missing.jsonl");
  cfg["output_dir"] = w.dir.file("probe-missing");
  try {
    imsm::run_train(imsm::parse_train_config(cfg, "test"));
    ADD_FAILURE() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("missing.jsonl"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(w.dir.file("probe-missing/adapter")));
}

TEST(TrainRecipe, ResumeReproducesTheUninterruptedRunExactly) {
  Workspace w;
  for (const auto& [method, optimizer] : std::vector<std::pair<std::string, std::string>>{{"lora", "adamw"}, {"lora", "adafactor"}, {"adalora", "adamw"}}) {
    SCOPED_TRACE(method + " / " + optimizer);
    auto cfg = w.config(w.dir.file("full-" + method + optimizer));
    cfg["optimizer"] = optimizer;
    cfg["peft"] = method;
    const auto full = imsm::run_train(imsm::parse_train_config(cfg, "test"));
    ASSERT_EQ(full.status, imsm::RunStatus::Finished);
    ASSERT_EQ(full.losses.size(), 15u);  // 40 examples / 8 = 5 steps x 3 epochs
    // Stop after 7 steps (a checkpoint is written on cancel), then resume in a new process-like run.
    auto part_cfg = w.config(w.dir.file("part-" + method + optimizer));
    part_cfg["optimizer"] = optimizer;
    part_cfg["peft"] = method;
    int steps = 0;
    std::string last_checkpoint;
    imsm::Hooks stop;
    stop.on_step = [&](const imsm::StepRecord&) { ++steps; };
    stop.should_abort = [&] { return steps >= 7; };
    stop.on_event = [&](const imsm::RunEvent& e) {
      if (e.kind == imsm::RunEvent::Kind::Checkpoint) last_checkpoint = e.path;
    };
    imsm::testing::expect_cancelled([&] { imsm::run_train(imsm::parse_train_config(part_cfg, "test"), stop); });
    EXPECT_EQ(last_checkpoint, w.dir.file("part-" + method + optimizer) + "/checkpoint-7");
    part_cfg["resume_from"] = w.dir.file("part-" + method + optimizer);  // the newest checkpoint inside
    const auto resumed = imsm::run_train(imsm::parse_train_config(part_cfg, "test"));
    ASSERT_EQ(resumed.status, imsm::RunStatus::Finished);
    EXPECT_EQ(resumed.losses, full.losses);  // bit-identical losses
    for (const char* f : {"adapter_model.safetensors", "adapter_config.json", "imsm_gate.safetensors"})
      EXPECT_EQ(slurp(w.dir.file("part-" + method + optimizer) + "/adapter/" + f), slurp(w.dir.file("full-" + method + optimizer) + "/adapter/" + f)) << f;
    // Checkpoints at every 4th step and at epoch ends (steps 5, 10, 15).
    for (const int s : {4, 5, 8, 10, 12, 15})
      EXPECT_TRUE(std::filesystem::exists(w.dir.file("full-" + method + optimizer) + "/checkpoint-" + std::to_string(s))) << s;
  }
}

TEST(TrainRecipe, AdaLoraAdapterIsSavedCutToItsRanksAndLoadsBack) {
  Workspace w;
  auto cfg = w.config(w.dir.file("ada"));
  cfg["peft"] = "adalora";
  cfg["lora_r"] = 6;
  cfg["adalora_target_rank"] = 2;
  cfg["tfinal"] = 3;
  // The official code's AdaLoRA (no allocation): every module keeps its 6 ranks, no pattern is saved.
  auto official = cfg;
  official["output_dir"] = w.dir.file("ada-official");
  official["adalora_allocation"] = false;
  ASSERT_EQ(imsm::run_train(imsm::parse_train_config(official, "test")).status, imsm::RunStatus::Finished);
  const auto official_config = imsm::json::read_file(w.dir.file("ada-official/adapter/adapter_config.json"));
  EXPECT_TRUE(!official_config.contains("rank_pattern") || official_config["rank_pattern"].empty() || official_config["rank_pattern"].is_null());
  const auto official_file = imsm::SafetensorsFile::open(w.dir.file("ada-official/adapter/adapter_model.safetensors"));
  EXPECT_EQ(official_file.find("base_model.model.model.layers.0.self_attn.q_proj.lora_A")->shape[0], 6);
  const auto s = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  ASSERT_EQ(s.status, imsm::RunStatus::Finished);
  const auto config = imsm::json::read_file(w.dir.file("ada/adapter/adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "ADALORA");
  EXPECT_EQ(config["init_r"], 6);
  EXPECT_EQ(config["target_r"], 2);
  ASSERT_TRUE(config["rank_pattern"].is_object());
  int64_t kept = 0;
  for (const auto& [key, mask] : config["rank_pattern"].items()) {
    EXPECT_NE(key.find(".lora_E"), std::string::npos);
    for (const auto& b : mask) kept += b.get<bool>() ? 1 : 0;
    const std::string module = key.substr(0, key.size() - 7);
    const auto file = imsm::SafetensorsFile::open(w.dir.file("ada/adapter/adapter_model.safetensors"));
    int64_t here = 0;
    for (const auto& b : mask) here += b.get<bool>() ? 1 : 0;
    EXPECT_EQ(file.find("base_model.model." + module + ".lora_A")->shape[0], here) << module;  // cut as PEFT does
  }
  EXPECT_EQ(kept, 2 * static_cast<int64_t>(config["rank_pattern"].size()));  // the target budget: target_r per module
  // It loads and generates; its logits equal the full-rank model's with the pattern's zeros.
  imsm::GenerateRequest r;
  r.source.model_dir = w.model;
  r.source.adapter_dir = w.dir.file("ada/adapter");
  r.prompt = "copy abc";
  r.max_new_tokens = 4;
  EXPECT_EQ(imsm::run_generate(r, {}).variant, "query");
  // The inspector's trace: one per token; greedy picks the mix's most probable token; its gate is the mean's.
  r.trace_top_k = 3;
  const auto traced = imsm::run_generate(r, {});
  ASSERT_EQ(traced.trace.size(), traced.ids.size());
  for (size_t i = 0; i < traced.ids.size(); ++i) {
    const auto& t = traced.trace[i];
    EXPECT_EQ(t.id, traced.ids[i]);
    ASSERT_EQ(t.top_mixed.size(), 3u);
    EXPECT_EQ(t.top_mixed[0].id, traced.ids[i]);
    EXPECT_GE(t.top_mixed[0].prob, t.top_mixed[1].prob);
    EXPECT_NEAR(t.gate_mean, traced.gate_mean[i], 1e-6);
    EXPECT_LE(t.gate_min, t.gate_mean);
    EXPECT_GE(t.gate_max, t.gate_mean);
    EXPECT_FALSE(t.gate.empty());
  }
}

// The gate's rate as the official optimizer groups give it (docs/OFFICIAL.md #2); the official top_rank is
// mode 3's and leaves AdaLoRA alone; AdaLoRA's target rank has its own key.
TEST(TrainConfig, GateLearningRateAndRanksResolveAsTheOfficialCode) {
  Workspace w;
  auto cfg = w.config(w.dir.file("out"));
  cfg["learning_rate"] = 5e-3;
  EXPECT_EQ(imsm::parse_train_config(cfg, "cfg.json").gate_learning_rate, 1e-3);  // AdamW: PyTorch's default
  cfg["optimizer"] = "adafactor";
  EXPECT_EQ(imsm::parse_train_config(cfg, "cfg.json").gate_learning_rate, 5e-3);  // Adafactor: one rate for all
  cfg["gate_learning_rate"] = 2e-4;
  const auto given = imsm::parse_train_config(cfg, "cfg.json");
  EXPECT_EQ(given.gate_learning_rate, 2e-4);
  EXPECT_EQ(imsm::parse_train_config(given.to_json(), "resolved").gate_learning_rate, 2e-4);  // the record reads back
  cfg["gate_learning_rate"] = -1;
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"cfg.json", "\"gate_learning_rate\"", "0 or positive"});
  cfg = w.config(w.dir.file("out"));
  cfg["peft"] = "adalora";
  cfg["lora_r"] = 16;
  cfg["top_rank"] = 32;  // the official key: mode 3's rank, no bound by lora_r
  EXPECT_EQ(imsm::parse_train_config(cfg, "cfg.json").adalora_target_rank, 0);
  cfg["adalora_target_rank"] = 17;
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"cfg.json", "adalora_target_rank", "lora_r"});
}

TEST(TrainConfig, SettingsAreReadOnceIntoTheirTypesAndWrittenBackAsRead) {
  Workspace w;
  auto cfg = w.config(w.dir.file("out"));
  cfg["optimizer"] = "adafactor";
  cfg["lr_schedule"] = "linear";
  cfg["gradient_checkpointing"] = "on";
  cfg["dtype"] = "bfloat16";  // an alias, written back as its name
  cfg["device"] = "cuda:1";
  cfg["memory_cache_dtype"] = "f16";
  const auto c = imsm::parse_train_config(cfg, "cfg.json");
  EXPECT_EQ(c.optimizer, imsm::OptimizerKind::Adafactor);
  EXPECT_EQ(c.lr_schedule, imsm::LrSchedule::Linear);
  EXPECT_EQ(c.gradient_checkpointing, imsm::Checkpointing::On);
  EXPECT_EQ(c.dtype, imsm::Precision::BF16);
  EXPECT_EQ(c.device, (imsm::DeviceSpec{true, 1}));
  EXPECT_EQ(c.memory_cache_dtype, imsm::Precision::F16);
  const auto j = c.to_json();
  EXPECT_EQ(j["optimizer"], "adafactor");
  EXPECT_EQ(j["dtype"], "bf16");
  EXPECT_EQ(j["device"], "cuda:1");
  // Every written key of the table is in the record, and the record reads back to the same record.
  for (const auto& k : imsm::train_keys()) EXPECT_EQ(j.contains(k.name), k.written) << k.name;
  EXPECT_EQ(imsm::parse_train_config(j, "record").to_json(), j);
  // A choice outside the table's is refused naming the key and every choice; so is a device that is none.
  cfg["optimizer"] = "sgd";
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"cfg.json", "\"optimizer\"", "\"sgd\"", "adamw, adafactor"});
  cfg = w.config(w.dir.file("out"));
  cfg["device"] = "mps";
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"cfg.json", "\"device\"", "cpu, cuda or cuda:N"});
  // imsm train --help-keys: every key once, with its default.
  const std::string help = imsm::format_train_keys();
  for (const auto& k : imsm::train_keys()) EXPECT_NE(help.find(k.name + "  ("), std::string::npos) << k.name;
  EXPECT_NE(help.find("lora_r  (integer >= 1; default 16)"), std::string::npos) << help.substr(0, 400);
}

TEST(TrainRecipe, BadConfigsNameTheKey) {
  Workspace w;
  auto cfg = w.config(w.dir.file("out"));
  cfg["learning_rat"] = 1e-3;
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"cfg.json", "unknown key \"learning_rat\""});
  cfg = w.config(w.dir.file("out"));
  cfg["variant"] = "none";  // mode 5 says query
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"\"mode\"", "\"variant\"", "disagree"});
  cfg = w.config(w.dir.file("out"));
  cfg["target_modules"] = {"q_proj", "qkv"};
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"target_modules", "\"qkv\""});
  cfg = w.config(w.dir.file("out"));
  cfg["batch_size"] = "eight";
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"\"batch_size\"", "integer"});
  cfg = w.config(w.dir.file("out"));
  cfg.erase("data_path");
  expect_bad_input([&] { imsm::parse_train_config(cfg, "cfg.json"); }, {"missing key \"data_path\""});
  cfg = w.config(w.dir.file("out"));
  cfg["lr_schedule"] = "None";  // the official spelling of a constant rate
  EXPECT_EQ(imsm::parse_train_config(cfg, "cfg.json").lr_schedule, imsm::LrSchedule::None);
  cfg["mode"] = 2;
  EXPECT_EQ(imsm::parse_train_config(cfg, "cfg.json").variant, imsm::GateVariant::NoQuery);
  cfg["peft"] = "ia3";
  const auto ia3 = imsm::parse_train_config(cfg, "cfg.json");
  EXPECT_EQ(ia3.target_modules, (std::vector<std::string>{"k_proj", "v_proj", "down_proj"}));
  EXPECT_EQ(ia3.feedforward_modules, (std::vector<std::string>{"down_proj"}));
  // Field names are configurable (here "answer" instead of "output").
  write_file(w.dir.file("qa.jsonl"), "{\"input\": \"copy abc\", \"answer\": \"abc\"}\n");
  cfg = w.config(w.dir.file("qa"));
  cfg["data_path"] = w.dir.file("qa.jsonl");
  cfg["output_field"] = "answer";
  cfg["num_epochs"] = 1;
  EXPECT_EQ(imsm::run_train(imsm::parse_train_config(cfg, "cfg.json")).status, imsm::RunStatus::Finished);
  // A dataset line without its answer stops the run before any training.
  write_file(w.data, "{\"input\": \"copy abc\", \"output\": \"abc\"}\n{\"input\": \"copy xyz\"}\n");
  expect_bad_input([&] { imsm::run_train(imsm::parse_train_config(w.config(w.dir.file("out")), "cfg.json")); },
                   {"train.jsonl:2", "\"output\""});
}

}  // namespace

#include "train/optimizer.h"

namespace {

TEST(Optimizers, AdamWAndAdafactorFollowTheirUpdateRules) {
  // Two steps on a 2x3 matrix and a vector, checked against the rules written out in doubles; the vector is
  // a parameter group of its own at half the rate (as the IMSM gate's lr_scale), its decay scaled alike.
  const torch::Tensor w0 = torch::tensor({{0.5, -1.0, 2.0}, {0.1, 0.3, -0.7}}, torch::kFloat64);
  const torch::Tensor b0 = torch::tensor({0.2, -0.4}, torch::kFloat64);
  const std::vector<torch::Tensor> gw = {torch::tensor({{0.1, -0.2, 0.3}, {0.05, 0.4, -0.1}}, torch::kFloat64),
                                         torch::tensor({{-0.3, 0.1, 0.2}, {0.2, -0.1, 0.05}}, torch::kFloat64)};
  const std::vector<torch::Tensor> gb = {torch::tensor({0.5, -0.25}, torch::kFloat64), torch::tensor({0.1, 0.2}, torch::kFloat64)};
  for (const std::string name : {"adamw", "adafactor"}) {
    torch::Tensor w = w0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
    auto opt = imsm::make_optimizer(imsm::optimizer_kinds().parse(name, "optimizer", "test"), {{"w", w}, {"b", b, 0.5}}, 0.01);
    torch::Tensor ew = w0.clone(), eb = b0.clone();
    torch::Tensor mw = torch::zeros_like(ew), vw = torch::zeros_like(ew), mb = torch::zeros_like(eb), vb = torch::zeros_like(eb);
    torch::Tensor row = torch::zeros({2}, torch::kFloat64), col = torch::zeros({3}, torch::kFloat64);
    const double lr = 0.1;
    for (int t = 1; t <= 2; ++t) {
      w.mutable_grad() = gw[t - 1].clone();
      b.mutable_grad() = gb[t - 1].clone();
      opt->step(lr);
      if (name == "adamw") {
        for (auto [p, g, m, v, rate] : {std::tuple{&ew, gw[t - 1], &mw, &vw, lr}, std::tuple{&eb, gb[t - 1], &mb, &vb, lr / 2}}) {
          *p = *p * (1 - rate * 0.01);
          *m = 0.9 * *m + 0.1 * g;
          *v = 0.999 * *v + 0.001 * g * g;
          *p = *p - rate * (*m / (1 - std::pow(0.9, t))) / ((*v / (1 - std::pow(0.999, t))).sqrt() + 1e-8);
        }
      } else {
        const double beta2 = 1 - std::pow(t, -0.8);
        auto finish = [&](torch::Tensor& p, torch::Tensor u, double rate) {
          u = u / std::max(1.0, u.pow(2).mean().sqrt().item<double>());  // clip threshold 1
          p = p - p * 0.01 * rate - rate * u;
        };
        const torch::Tensor sq = gw[t - 1] * gw[t - 1] + 1e-30;
        row = beta2 * row + (1 - beta2) * sq.mean(1);
        col = beta2 * col + (1 - beta2) * sq.mean(0);
        const torch::Tensor v_hat = torch::outer(row, col) / row.mean();  // the factored second moment
        finish(ew, gw[t - 1] / v_hat.sqrt(), lr);
        vb = beta2 * vb + (1 - beta2) * (gb[t - 1] * gb[t - 1] + 1e-30);
        finish(eb, gb[t - 1] / vb.sqrt(), lr / 2);
      }
    }
    EXPECT_LE((w.detach() - ew).abs().max().item<double>(), 1e-12) << name;
    EXPECT_LE((b.detach() - eb).abs().max().item<double>(), 1e-12) << name;
  }
}

}  // namespace

#include "eval/metrics.h"
#include "recipes/eval.h"

namespace {

TEST(EvalRecipe, BatchedEqualsOneByOneAndWritesOfficialPredictions) {
  Workspace w;
  auto cfg = w.config(w.dir.file("run"));
  cfg["num_epochs"] = 1;
  ASSERT_EQ(imsm::run_train(imsm::parse_train_config(cfg, "test")).status, imsm::RunStatus::Finished);
  // Prompts of different lengths (left padding in a batch), golds as strings and lists.
  write_file(w.dir.file("test.jsonl"), "{\"input\": \"copy abc\", \"output\": \"abc\"}\n{\"input\": \"copy xy zw\", \"output\": [\"xy zw\", \"xyzw\"]}\n"
                                       "{\"input\": \"copy q\", \"output\": \"q\"}\n{\"input\": \"copy hello there\", \"output\": \"hello there\"}\n");
  imsm::EvalRequest r;
  r.source.model_dir = w.model;
  r.source.adapter_dir = w.dir.file("run/adapter");
  r.dataset = w.dir.file("test.jsonl");
  r.task = "webq";
  r.max_new_tokens = 6;
  r.full_gate = true;
  r.batch_size = 4;
  r.predictions_out = w.dir.file("pred.jsonl");
  const auto batched = imsm::run_eval(r);
  r.batch_size = 1;
  r.predictions_out.clear();
  const auto single = imsm::run_eval(r);
  ASSERT_EQ(batched.examples.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(batched.examples[i].answer, single.examples[i].answer) << i;
    ASSERT_EQ(batched.examples[i].tokens.size(), single.examples[i].tokens.size());
    for (size_t t = 0; t < batched.examples[i].tokens.size(); ++t) {
      const auto& a = batched.examples[i].tokens[t];
      EXPECT_EQ(a.id, single.examples[i].tokens[t].id);
      // Batched vs alone, a gate mean in (0, 1): the model's fp32 rounding relative to 1 (tolerance.h).
      EXPECT_NEAR(a.gate_mean, single.examples[i].tokens[t].gate_mean, imsm::testing::fp32_ulps(imsm::testing::kWholeModel, 1.0));
      ASSERT_EQ(a.gate.size(), 32u);  // the full gate vector, hidden size 32
      double mean = 0;
      for (const float g : a.gate) mean += g / 32.0;
      EXPECT_NEAR(mean, a.gate_mean, imsm::testing::fp32_ulps(imsm::testing::kFewOps, 1.0));  // a mean of 32 values in (0, 1)
    }
  }
  // The predictions file is in the official format and scores as the run did.
  const auto written = imsm::read_predictions(w.dir.file("pred.jsonl"));
  ASSERT_EQ(written.size(), 4u);
  EXPECT_EQ(written[1].golds, (std::vector<std::string>{"xy zw", "xyzw"}));
  EXPECT_EQ(imsm::score_task("webq", written), batched.scores);
  r.task = "nope";
  expect_bad_input([&] { imsm::run_eval(r); }, {"unknown task \"nope\""});
}

}  // namespace
