// Datasets, the official tokenization, the schedule, and short training runs.
#include <gtest/gtest.h>

#include <random>

#include "model_fixtures.h"
#include "peft/peft_model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/trainer.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

// A character-level BPE (no merges): ids by hand. <s> = 0, </s> = 1, ' ' = 2, a..z = 3..28.
std::string char_tokenizer_json() {
  nlohmann::json vocab = {{"<s>", 0}, {"</s>", 1}, {" ", 2}};
  for (char ch = 'a'; ch <= 'z'; ++ch) vocab[std::string(1, ch)] = 3 + (ch - 'a');
  return nlohmann::json{
      {"added_tokens", {{{"id", 0}, {"content", "<s>"}, {"special", true}}, {{"id", 1}, {"content", "</s>"}, {"special", true}}}},
      {"normalizer", nullptr}, {"pre_tokenizer", nullptr}, {"decoder", {{"type", "Fuse"}}},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {0}}, {"tokens", {"<s>"}}}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}}
      .dump();
}

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
  o.lr_schedule = "linear";
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
  for (const auto m : {imsm::PeftMethod::LoRA, imsm::PeftMethod::DoRA, imsm::PeftMethod::IA3}) {
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
      imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 2);
      imsm::TrainOptions o;
      o.num_epochs = 6;
      o.batch_size = 8;
      o.learning_rate = m == imsm::PeftMethod::IA3 ? 5e-2 : 1e-2;
      o.warmup_ratio = 0.1;
      int reports = 0;
      const auto outcome = imsm::train_siamese(*model, *adapters, &gate, v, data, o, [&](const imsm::StepReport& r) {
        ++reports;
        EXPECT_GT(r.tokens_per_second, 0);
        EXPECT_EQ(r.total_steps, 36);
      });
      SCOPED_TRACE(imsm::method_name(m) + " / " + imsm::variant_name(v));
      EXPECT_EQ(outcome.status, "finished");
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
  const auto cancelled = imsm::train_siamese(*model, *adapters, nullptr, imsm::GateVariant::None, copy_task(16), o, {},
                                             [&] { return ++calls > 2; });
  EXPECT_EQ(cancelled.status, "cancelled");
  EXPECT_EQ(cancelled.steps, 2);
  o.learning_rate = 1e30;  // the first update blows the adapter up
  o.max_grad_norm = 0;
  const auto diverged = imsm::train_siamese(*model, *adapters, nullptr, imsm::GateVariant::None, copy_task(16), o);
  EXPECT_EQ(diverged.status, "diverged");
  EXPECT_FALSE(std::isfinite(diverged.losses.back()));
  o.learning_rate = -1;
  expect_bad_input([&] { imsm::train_siamese(*model, *adapters, nullptr, imsm::GateVariant::None, copy_task(4), o); }, {"learning_rate"});
}

}  // namespace
