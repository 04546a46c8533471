// The learning–forgetting trade-off: gains, retention and their intervals
// from stored predictions whose scores are known by construction, the α-sweep
// as a curve, the Pareto front by hand, and the CSV and SVG written from them.
#include <gtest/gtest.h>

#include "eval/significance.h"
#include "report/flips.h"
#include "report/report.h"
#include "report/results.h"
#include "report/tradeoff.h"
#include "store/workspace.h"
#include "test_util.h"

using imsm::testing::TempDir;
namespace store = imsm::store;

namespace {

// A workspace with two benchmarks of 40 questions each: "task" (learned) and "keep" (retained).
struct TradeoffFixture {
  TempDir dir;
  store::Workspace ws{dir.file("ws.imsm")};
  TradeoffFixture() { imsm::testing::write_file(dir.file("set.jsonl"), "{}\n"); }

  int64_t train(const std::string& config) {
    const int64_t id = ws.create_run({"train", "t", "", "", config, "cpu", "", 1, 0});
    ws.start_run(id);
    ws.finish_run(id, imsm::RunStatus::Finished);
    return id;
  }
  // An evaluation answering the first `task` and `keep` questions of each benchmark right; `extra`: more configuration.
  void eval(int64_t parent, int task, int keep, const std::string& extra = "") {
    const int64_t id = ws.create_run({"eval", "suite", "", "", R"({"benchmarks": [{"name": "task", "metric": "EM"}, {"name": "keep", "metric": "EM"}])" + extra + "}",
                                      "cpu", "", 0, parent});
    ws.start_run(id);
    for (const auto& [name, right] : {std::pair<std::string, int>{"task", task}, {"keep", keep}}) {
      std::vector<store::Prediction> rows;
      for (int i = 0; i < 40; ++i) rows.push_back({i, "Capital of France?", {"Paris"}, i < right ? "Paris" : "Lyon", {}});
      ws.add_evaluations(id, dir.file("set.jsonl"), {{name, "webq", "EM", right / 40.0, 40, "", ""}});
      ws.add_predictions(id, name, rows);
    }
    ws.finish_run(id, imsm::RunStatus::Finished);
  }
};

TEST(Tradeoff, GainRetentionCurveAndParetoFrontByHand) {
  TradeoffFixture f;
  f.eval(0, 10, 30);                                                              // Base: task 0.25, keep 0.75
  const int64_t lora = f.train(R"({"peft": "lora", "variant": "none"})");
  f.eval(lora, 30, 10);                                                           // +0.5, -0.5
  f.eval(lora, 25, 20, R"(, "mix_alpha": 0.5)");                                  // +0.375, -0.25: LoRA at α = ½
  f.eval(f.train(R"({"peft": "lora", "variant": "query"})"), 20, 30);             // +0.25, 0
  f.eval(f.train(R"({"peft": "lora", "variant": "none", "kl_lambda": 0.5})"), 20, 20);  // +0.25, -0.25: beaten by IMSM
  const auto table = imsm::report::aggregate_results(f.ws, {});
  const imsm::report::Tradeoff t = imsm::report::tradeoff(f.ws, table);
  EXPECT_EQ(t.target, "task");
  EXPECT_EQ(t.retention, std::vector<std::string>{"keep"});
  ASSERT_EQ(t.points.size(), 4u);
  std::map<std::string, const imsm::report::TradeoffPoint*> by;
  for (const auto& p : t.points) by[p.name] = &p;
  ASSERT_EQ(by.count("LoRA"), 1u);
  ASSERT_EQ(by.count("LoRA α=0.5"), 1u);
  ASSERT_EQ(by.count("IMSM(LoRA)"), 1u);
  ASSERT_EQ(by.count("LoRA+KL"), 1u);
  const std::vector<std::tuple<std::string, double, double, bool>> expected = {
      {"LoRA", 0.5, -0.5, true}, {"LoRA α=0.5", 0.375, -0.25, true}, {"IMSM(LoRA)", 0.25, 0.0, true}, {"LoRA+KL", 0.25, -0.25, false}};
  for (const auto& [name, gain, retention, pareto] : expected) {
    const auto& p = *by[name];
    EXPECT_NEAR(p.gain.value, gain, 1e-12) << name;
    EXPECT_NEAR(p.retention.value, retention, 1e-12) << name;
    EXPECT_EQ(p.pareto, pareto) << name;
    EXPECT_LE(p.gain.low, p.gain.value) << name;
    EXPECT_GE(p.gain.high, p.gain.value) << name;
  }
  EXPECT_GT(by["LoRA"]->gain.low, 0) << "20 of 40 answers flipped to right: the interval is clear of 0";
  EXPECT_EQ(by["LoRA α=0.5"]->alpha, 0.5);
  EXPECT_EQ(by["LoRA α=0.5"]->method, "LoRA");
  ASSERT_EQ(t.curves.size(), 1u);  // LoRA (α = 0), then its mix
  ASSERT_EQ(t.curves[0].points.size(), 2u);
  EXPECT_EQ(t.points[t.curves[0].points[0]].name, "LoRA");
  EXPECT_EQ(t.points[t.curves[0].points[1]].name, "LoRA α=0.5");

  const std::string csv = imsm::report::tradeoff_csv(t);
  EXPECT_NE(csv.find("\nLoRA α=0.5,LoRA,0.5,1,task EM,0.375,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nLoRA+KL,LoRA+KL,,1,task EM,0.25,"), std::string::npos) << csv;
  const std::string svg = imsm::report::tradeoff_svg(t);
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) ++circles;
  EXPECT_EQ(circles, 4u);
  EXPECT_NE(svg.find("Pareto front"), std::string::npos);
  EXPECT_NE(svg.find("α=0.5"), std::string::npos);
  // The report shows the picture under its own heading, and a .csv report writes the points beside it.
  const std::string html = imsm::report::html_report(f.ws, {}, {"0.1.0", "2", "now", "host"});
  EXPECT_NE(html.find("<h2>Learning and forgetting</h2><svg"), std::string::npos);
  imsm::report::write_report(f.ws, {}, {"0.1.0", "2", "now", "host"}, f.dir.file("report.csv"));
  EXPECT_EQ(imsm::testing::read_file(f.dir.file("report.tradeoff.csv")), csv);
  imsm::testing::expect_bad_input([&] { imsm::report::tradeoff(f.ws, table, "nowhere"); }, {"target", "\"nowhere\""});
}

// The mean over benchmarks: its value is the mean of each benchmark's difference, and over one benchmark it is
// that benchmark's comparison, interval included (the same draws in the same order).
TEST(Tradeoff, MeanOverBenchmarksAgreesWithEachBenchmarksComparison) {
  auto scores = [](int right, int n) {
    imsm::SeedScores s;
    s.seeds = {1};
    s.items.emplace_back();
    for (int i = 0; i < n; ++i) s.items[0].push_back(imsm::score_item("webq", {i < right ? "Paris" : "Lyon", {"Paris"}}));
    return s;
  };
  const auto a1 = scores(30, 40), b1 = scores(20, 40), a2 = scores(5, 20), b2 = scores(10, 20);
  const imsm::Difference one = imsm::compare_scores("EM", a1, b1);
  const imsm::Difference mean1 = imsm::compare_mean({"EM"}, {a1}, {b1});
  EXPECT_DOUBLE_EQ(mean1.value, one.value);
  EXPECT_DOUBLE_EQ(mean1.low, one.low);
  EXPECT_DOUBLE_EQ(mean1.high, one.high);
  const imsm::Difference two = imsm::compare_mean({"EM", "EM"}, {a1, a2}, {b1, b2});
  EXPECT_NEAR(two.value, (0.25 + -0.25) / 2, 1e-12);
  EXPECT_LT(two.low, 0);
  EXPECT_GT(two.high, 0);
  EXPECT_EQ(two.test, "paired bootstrap");
}

// Items that flipped: base right on task questions 0..9 and keep questions 0..29; LoRA on task 0..29 and keep 0..9:
// it gained task 10..29 and lost keep 10..29, each example named with both answers.
TEST(Flips, ExamplesWhoseCorrectnessChangedByConstruction) {
  TradeoffFixture f;
  f.eval(0, 10, 30);                                                   // run 1
  const int64_t lora = f.train(R"({"peft": "lora", "variant": "none"})");  // run 2
  f.eval(lora, 30, 10);                                                // run 3
  const imsm::report::FlipList list = imsm::report::flipped_items(f.ws, 1, 3);
  EXPECT_EQ(list.compared, 80);
  EXPECT_EQ(list.gained, 20);
  EXPECT_EQ(list.lost, 20);
  ASSERT_EQ(list.flips.size(), 40u);
  for (const auto& flip : list.flips) {
    EXPECT_EQ(flip.gained, flip.benchmark == "task") << flip.benchmark << " " << flip.example_index;
    EXPECT_GE(flip.example_index, 10);
    EXPECT_LT(flip.example_index, 30);
    EXPECT_EQ(flip.answer_a, flip.gained ? "Lyon" : "Paris");
    EXPECT_EQ(flip.answer_b, flip.gained ? "Paris" : "Lyon");
    EXPECT_EQ(flip.metric, "EM");
  }
  const imsm::report::FlipList back = imsm::report::flipped_items(f.ws, 3, 1);  // the other way round: lost and gained swap
  EXPECT_EQ(back.gained, 20);
  EXPECT_EQ(back.lost, 20);
  EXPECT_TRUE(imsm::report::flipped_items(f.ws, 1, 1).flips.empty());
  imsm::testing::expect_bad_input([&] { imsm::report::flipped_items(f.ws, 1, lora); }, {"run 2", "train run", "two finished evaluations"});
}

}  // namespace
