// Rows of the result table are configurations (report/results.h): runs that
// differ in a training key are not averaged together, each base model has its
// own Base row and every row is measured against its own, a trained adapter
// evaluated twice counts once (its latest evaluation), and IMSM(X) is paired
// with the X trained alike. Expected rows and values by hand.
#include <gtest/gtest.h>

#include "report/report.h"
#include "report/results.h"
#include "report/significance_table.h"
#include "store/workspace.h"
#include "test_util.h"

using imsm::testing::TempDir;
namespace store = imsm::store;

namespace {

struct Workspace {
  TempDir dir;
  store::Workspace ws{dir.file("ws.imsm")};
  Workspace() { imsm::testing::write_file(dir.file("qa.jsonl"), "{}\n"); }

  // A finished training run of `config` on `model`.
  int64_t train(const std::string& model, const std::string& config, int64_t seed) {
    const int64_t id = ws.create_run({"train", "t", model, "", config, "cpu", "", seed, 0});
    ws.start_run(id);
    ws.finish_run(id, imsm::RunStatus::Finished);
    return id;
  }
  // A finished evaluation (of the training run `parent`, or of `model` alone) scoring `em` on "qa".
  int64_t eval(const std::string& model, int64_t parent, double em) {
    const int64_t id = ws.create_run({"eval", "suite", model, "", R"({"benchmarks": [{"name": "qa", "metric": "EM"}]})", "cpu", "", 0, parent});
    ws.start_run(id);
    ws.add_evaluations(id, dir.file("qa.jsonl"), {{"qa", "webq", "EM", em, 4, "", ""}});
    ws.finish_run(id, imsm::RunStatus::Finished);
    return id;
  }
};

std::vector<std::string> names(const imsm::report::ResultTable& t) {
  std::vector<std::string> out;
  for (const auto& r : t.rows) out.push_back(r.name);
  return out;
}

const std::string kLoraSlow = R"({"peft": "lora", "variant": "none", "learning_rate": 0.001, "lora_r": 8, "output_dir": "a"})";
const std::string kLoraFast = R"({"peft": "lora", "variant": "none", "learning_rate": 0.005, "lora_r": 8, "output_dir": "b"})";
const std::string kImsmFast = R"({"peft": "lora", "variant": "query", "learning_rate": 0.005, "lora_r": 8, "gate_rank": 4, "output_dir": "c"})";

}  // namespace

// Two learning rates are two rows, each with its own seeds; the output folder (and the seed) are not part of a configuration.
TEST(ResultRows, RunsThatDifferInATrainingKeyAreSeparateRows) {
  Workspace w;
  w.eval("/m/base", 0, 0.5);
  w.eval("/m/base", w.train("/m/base", kLoraSlow, 1), 0.25);
  w.eval("/m/base", w.train("/m/base", kLoraSlow, 2), 0.5);
  w.eval("/m/base", w.train("/m/base", kLoraFast, 1), 0.0);
  const auto t = imsm::report::aggregate_results(w.ws, {});
  EXPECT_EQ(names(t), (std::vector<std::string>{"Base", "LoRA (learning_rate=0.001)", "LoRA (learning_rate=0.005)"}));
  ASSERT_TRUE(t.cell(1, 0) && t.cell(2, 0));
  EXPECT_EQ(t.cell(1, 0)->n, 2);
  EXPECT_DOUBLE_EQ(t.cell(1, 0)->mean, 0.375);
  EXPECT_EQ(t.cell(2, 0)->n, 1);
  EXPECT_DOUBLE_EQ(t.cell(2, 0)->mean, 0.0);
  EXPECT_EQ(t.rows[1].settings, "learning_rate=0.001");
}

// A project run twice, or an adapter evaluated again: one score per trained run (the latest), the same table.
TEST(ResultRows, AnAdapterEvaluatedTwiceCountsOnce) {
  Workspace w;
  w.eval("/m/base", 0, 0.5);
  const int64_t run1 = w.train("/m/base", kLoraSlow, 1), run2 = w.train("/m/base", kLoraSlow, 2);
  w.eval("/m/base", run1, 0.25);
  w.eval("/m/base", run2, 0.5);
  const auto before = imsm::report::aggregate_results(w.ws, {});
  w.eval("/m/base", 0, 0.5);
  w.eval("/m/base", run1, 0.25);
  w.eval("/m/base", run2, 0.5);
  const auto after = imsm::report::aggregate_results(w.ws, {});
  EXPECT_EQ(names(after), names(before));
  ASSERT_TRUE(after.cell(1, 0));
  EXPECT_EQ(after.cell(1, 0)->n, 2);  // not 4
  EXPECT_EQ(after.cell(0, 0)->n, 1);
  EXPECT_EQ(after.cell(1, 0)->std, before.cell(1, 0)->std);
  // The latest evaluation is the one that counts.
  const int64_t again = w.eval("/m/base", run1, 0.0);
  const auto latest = imsm::report::aggregate_results(w.ws, {});
  EXPECT_DOUBLE_EQ(latest.cell(1, 0)->mean, 0.25);
  EXPECT_EQ(latest.cell(1, 0)->eval_run_ids.front(), again);
}

// Two base models: a Base row each, every row named by its model and measured against its own Base.
TEST(ResultRows, EachBaseModelHasItsOwnBaseRow) {
  Workspace w;
  w.eval("/m/small", 0, 0.5);
  w.eval("/m/large", 0, 0.75);
  w.eval("/m/small", w.train("/m/small", kLoraSlow, 1), 0.25);
  w.eval("/m/large/", w.train("/m/large", kLoraSlow, 1), 1.0);  // the same folder written with a trailing slash
  const auto t = imsm::report::aggregate_results(w.ws, {});
  EXPECT_EQ(names(t), (std::vector<std::string>{"Base · small", "LoRA · small", "Base · large", "LoRA · large"}));
  EXPECT_EQ(t.base_of(1), std::optional<size_t>(0));
  EXPECT_EQ(t.base_of(3), std::optional<size_t>(2));
  EXPECT_EQ(t.base_of(0), std::nullopt);
  const std::string csv = imsm::report::results_csv(w.ws, {});
  EXPECT_NE(csv.find("\nLoRA · small,qa,EM,0.25,0,1,-0.25,"), std::string::npos) << csv;  // 0.25 - 0.5
  EXPECT_NE(csv.find("\nLoRA · large,qa,EM,1,0,1,0.25,"), std::string::npos) << csv;     // 1.0 - 0.75
  EXPECT_NE(csv.find("\nBase · large,qa,EM,0.75,0,1,,"), std::string::npos) << csv;
}

// IMSM(LoRA) at 0.005 is compared with LoRA at 0.005 (its gate's own keys aside), not with LoRA at 0.001; labels pair too.
TEST(ResultRows, ImsmIsPairedWithTheMethodTrainedAlike) {
  Workspace w;
  w.eval("/m/base", w.train("/m/base", kLoraSlow, 1), 0.25);
  w.eval("/m/base", w.train("/m/base", kLoraFast, 1), 0.0);
  w.eval("/m/base", w.train("/m/base", kImsmFast, 1), 0.5);
  w.eval("/m/base", w.train("/m/base", R"({"peft": "lora", "variant": "query", "learning_rate": 0.001, "lora_r": 8, "label": "mine"})", 1), 0.5);
  const auto t = imsm::report::aggregate_results(w.ws, {});
  ASSERT_EQ(names(t), (std::vector<std::string>{"LoRA (learning_rate=0.001)", "LoRA (learning_rate=0.005)", "IMSM(LoRA)", "mine"}));
  EXPECT_EQ(imsm::report::imsm_pairs(t), (std::vector<std::pair<size_t, size_t>>{{2, 1}, {3, 0}}));
  EXPECT_FALSE(t.has_changes());  // no base model evaluated
}
