// Reports: results grouped by method with mean ± std over seeds (values
// computed by hand), escaping of dataset text, well-formed HTML (checked by
// xmllint), CSV and Markdown tables.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "report/gate_colour.h"
#include "report/report.h"
#include "report/results.h"
#include "report/significance_table.h"
#include "report/svg.h"
#include "store/workspace.h"
#include "test_util.h"
#include "util/table.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
namespace store = imsm::store;

namespace {

const std::string kEvil = "<script>alert('x')</script> & \"quoted\" ]]> \x01";

struct Fixture {
  TempDir dir;
  store::Workspace ws{dir.file("ws.imsm")};
  std::vector<int64_t> train_ids;

  int64_t eval_run(int64_t parent, double a, double b) {
    store::NewRun r;
    r.kind = "eval";
    r.name = "eval";
    r.config_json = R"({"benchmarks": [{"name": "A", "metric": "EM"}, {"name": "B", "metric": "Contain"}]})";
    r.parent_run_id = parent;
    const int64_t id = ws.create_run(r);
    ws.start_run(id);
    imsm::testing::write_file(dir.file("a.jsonl"), "{}\n");
    ws.add_evaluations(id, dir.file("a.jsonl"), {{"A", "webq", "Contain", 0.9, 2, "", ""}, {"A", "webq", "EM", a, 2, "", ""}, {"B", "webq", "Contain", b, 2, "", ""}});
    ws.add_predictions(id, "A", {{0, kEvil, {kEvil}, "ans", {{1, kEvil, 0.75f, {}}, {2, "b", 0.25f, {}}}}});
    ws.finish_run(id, imsm::RunStatus::Finished);
    return id;
  }
  int64_t train_run(const std::string& variant, int64_t seed) {
    store::NewRun r;
    r.kind = "train";
    r.name = kEvil;
    r.config_json = R"({"peft": "lora", "variant": ")" + variant + R"("})";
    r.seed = seed;
    const int64_t id = ws.create_run(r);
    ws.start_run(id);
    ws.add_train_metrics(id, {imsm::StepRecord{.step = 1, .epoch = 0, .loss = 2.0, .learning_rate = 1e-3, .grad_norm = 1, .tokens_per_second = 1}, imsm::StepRecord{.step = 2, .epoch = 0, .loss = 1.5, .learning_rate = 1e-3, .grad_norm = 1, .tokens_per_second = 1}});
    ws.finish_run(id, imsm::RunStatus::Finished);
    train_ids.push_back(id);
    return id;
  }
  Fixture() {
    eval_run(0, 0.5, 0.2);                         // Base
    eval_run(train_run("none", 1), 0.3, 0.1);      // LoRA, seeds 1 and 2
    eval_run(train_run("none", 2), 0.4, 0.3);
    eval_run(train_run("query", 1), 0.45, 0.2);    // IMSM(LoRA)
    eval_run(train_run("query", 2), 0.5, 0.2);
  }
};

}  // namespace

// The number texts of tables and reports, by hand.
TEST(Report, NumberAndDurationTexts) {
  EXPECT_EQ(imsm::format_fixed(0.12345, 4), "0.1235");
  EXPECT_EQ(imsm::format_change(0.012, 4), "+0.0120");
  EXPECT_EQ(imsm::format_change(-0.003, 4), "-0.0030");
  EXPECT_EQ(imsm::format_duration(0), "0:00");
  EXPECT_EQ(imsm::format_duration(242.4), "4:02");
  EXPECT_EQ(imsm::format_duration(59.5), "1:00");
  EXPECT_EQ(imsm::format_duration(3909), "1:05:09");
  EXPECT_EQ(imsm::format_duration(-1), "");
  EXPECT_EQ(imsm::format_duration(std::nan("")), "");
}

TEST(Report, MethodsAndMeanStdOverSeedsByHand) {
  Fixture f;
  const auto t = imsm::report::aggregate_results(f.ws, {});
  std::vector<std::string> names;
  for (const auto& r : t.rows) names.push_back(r.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Base", "LoRA", "IMSM(LoRA)"}));
  ASSERT_EQ(t.columns.size(), 2u);  // the suite's headline metrics only
  EXPECT_EQ(t.columns[0].metric, "EM");
  EXPECT_EQ(t.columns[1].metric, "Contain");
  // LoRA on A: 0.3, 0.4 -> mean 0.35, sample std sqrt(((0.05)^2 * 2) / 1) = 0.0707107.
  EXPECT_NEAR(t.cell(1, 0)->mean, 0.35, 1e-12);
  EXPECT_NEAR(t.cell(1, 0)->std, 0.0707107, 1e-6);
  EXPECT_EQ(t.cell(1, 0)->n, 2);
  // IMSM(LoRA) on B: 0.2, 0.2 -> 0.2 ± 0.
  EXPECT_NEAR(t.cell(2, 1)->mean, 0.2, 1e-12);
  EXPECT_NEAR(t.cell(2, 1)->std, 0.0, 1e-12);
  EXPECT_EQ(imsm::report::mean_std(*t.cell(1, 0)), "0.3500 ± 0.0707");
  // The average over the benchmarks, per seed then over seeds: LoRA (0.3 + 0.1) / 2 = 0.2 and (0.4 + 0.3) / 2 = 0.35 ->
  // 0.275 ± sqrt(2 * 0.075^2) = 0.1061; Base (0.5 + 0.2) / 2 = 0.35.
  ASSERT_NE(t.average(1), nullptr);
  EXPECT_NEAR(t.average(1)->mean, 0.275, 1e-12);
  EXPECT_NEAR(t.average(1)->std, std::sqrt(2 * 0.075 * 0.075), 1e-12);
  EXPECT_NEAR(t.average(0)->mean, 0.35, 1e-12);
  EXPECT_EQ(t.averaged_columns, 2u);

  const std::string csv = imsm::report::results_csv(f.ws, {});
  // Fields of a row: mean, std, n, change (hand-computed, compared to 1e-12).
  auto row = [&](const std::string& head) {
    const size_t at = csv.find("\n" + head + ",");
    EXPECT_NE(at, std::string::npos) << head << "\n" << csv;
    std::vector<double> v;
    std::string line = csv.substr(at + head.size() + 2, csv.find('\r', at + 1) - at - head.size() - 2);
    for (size_t p = 0; p <= line.size() && v.size() < 4;) {  // mean, std, n, change (the significance columns: their own test)
      const size_t q = std::min(line.find(',', p), line.size());
      v.push_back(q > p ? std::stod(line.substr(p, q - p)) : NAN);
      p = q + 1;
    }
    return v;
  };
  const auto lora = row("LoRA,A,EM"), imsm_a = row("IMSM(LoRA),A,EM"), base_b = row("Base,B,Contain");
  ASSERT_EQ(lora.size(), 4u);
  EXPECT_NEAR(lora[0], 0.35, 1e-12);
  EXPECT_NEAR(lora[1], std::sqrt(0.005), 1e-12);
  EXPECT_EQ(lora[2], 2);
  EXPECT_NEAR(lora[3], -0.15, 1e-12);
  EXPECT_NEAR(imsm_a[0], 0.475, 1e-12);
  EXPECT_NEAR(imsm_a[3], -0.025, 1e-12);
  ASSERT_EQ(base_b.size(), 4u);
  EXPECT_NEAR(base_b[0], 0.2, 1e-12);
  EXPECT_TRUE(std::isnan(base_b[3]));  // the base has no change
  const std::string md = imsm::report::markdown_report(f.ws, {}, {"0.1.0", "1.13", "now", "host"});
  EXPECT_NE(md.find("| LoRA | 0.3500 ± 0.0707 | 0.2000 ± 0.1414 | 0.2750 ± 0.1061 |"), std::string::npos) << md;
  EXPECT_NE(csv.find("\nLoRA,average,mean of 2 benchmarks,0.275,"), std::string::npos) << csv;
  // A's change with the interval of its one stored prediction (every model wrong on it: [+0, +0]); B has none: no interval.
  EXPECT_NE(md.find("| IMSM(LoRA) | -0.0250 [+0.0000, +0.0000] | +0.0000 ± 0.0000 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| IMSM(LoRA) − LoRA | +0.1250 [+0.0000, +0.0000] |  |"), std::string::npos) << md;  // the means' difference
  // A training run selects its evaluations too.
  const auto sel = imsm::report::selected_runs(f.ws, {f.train_ids[0]});
  EXPECT_EQ(sel.size(), 2u);
  expect_bad_input([&] { imsm::report::selected_runs(f.ws, {99}); }, {"no run 99"});
}

// Significance from the stored predictions: 40 questions; the base answers
// 30 right, LoRA forgets (10 right, both seeds), IMSM(LoRA) keeps 28 and 29.
// By hand: LoRA - Base = -0.5, 20 discordant items all one way, McNemar p =
// 2 / 2^20, Holm over 1 benchmark leaves it: significant; a resample's
// difference is minus the discordant items drawn over 40, -Binomial(40, 1/2)
// / 40, whose 2.5% and 97.5% quantiles are 14 and 26 (CDF 0.0403 at 14, 0.9808
// at 26): the interval [-0.65, -0.35], within one item. IMSM - Base:
// -0.0375; the items' differences of seed means are -0.5 (item 28) and -1
// (item 29), so McNemar's randomization form: |sum| 1.5 in 2 of the 4 sign
// patterns, p = 0.5: not significant. IMSM - LoRA = +0.4625: significant.
TEST(Report, SignificanceFromTheStoredPredictions) {
  TempDir dir;
  store::Workspace ws(dir.file("ws.imsm"));
  imsm::testing::write_file(dir.file("qa.jsonl"), "{}\n");
  auto eval = [&](int64_t parent, int right) {
    const int64_t id = ws.create_run({"eval", "suite", "", "", R"({"benchmarks": [{"name": "qa", "metric": "EM"}]})", "cpu", "", 0, parent});
    ws.start_run(id);
    std::vector<store::Prediction> rows;
    for (int i = 0; i < 40; ++i) rows.push_back({i, "Capital of France?", {"Paris"}, i < right ? "Paris" : "Lyon", {}});
    ws.add_evaluations(id, dir.file("qa.jsonl"), {{"qa", "webq", "EM", right / 40.0, 40, "", ""}});
    ws.add_predictions(id, "qa", rows);
    ws.finish_run(id, imsm::RunStatus::Finished);
  };
  auto train = [&](const std::string& variant, int64_t seed) {
    const int64_t id = ws.create_run({"train", "t", "", "", R"({"peft": "lora", "variant": ")" + variant + R"("})", "cpu", "", seed, 0});
    ws.start_run(id);
    ws.finish_run(id, imsm::RunStatus::Finished);
    return id;
  };
  eval(0, 30);
  eval(train("none", 1), 10);
  eval(train("none", 2), 10);
  eval(train("query", 1), 28);
  eval(train("query", 2), 29);
  const auto t = imsm::report::aggregate_results(ws, {});
  const auto sig = imsm::report::test_significance(ws, t);
  ASSERT_EQ(sig.tests.size(), 3u);  // LoRA - Base, IMSM - Base, IMSM - LoRA
  const imsm::Difference& lora = sig.find(1, 0, 0)->difference;
  EXPECT_NEAR(lora.value, -0.5, 1e-12);
  EXPECT_EQ(lora.test, "McNemar exact");
  EXPECT_EQ(lora.discordant_b, 20);
  EXPECT_DOUBLE_EQ(lora.p_holm, 2.0 / 1048576.0);
  EXPECT_NEAR(lora.low, -0.65, 0.025 + 1e-9);
  EXPECT_NEAR(lora.high, -0.35, 0.025 + 1e-9);
  const imsm::Difference& imsm_base = sig.find(2, 0, 0)->difference;
  EXPECT_NEAR(imsm_base.value, -0.0375, 1e-12);
  EXPECT_EQ(imsm_base.discordant_b, 2);
  EXPECT_DOUBLE_EQ(imsm_base.p, 0.5);
  EXPECT_EQ(imsm_base.test, "McNemar randomization");
  EXPECT_LE(imsm_base.low, -0.0375);
  EXPECT_GE(imsm_base.high, -0.0375);
  const imsm::Difference& imsm_lora = sig.find(2, 1, 0)->difference;
  EXPECT_NEAR(imsm_lora.value, 0.4625, 1e-12);
  EXPECT_LT(imsm_lora.p_holm, 0.05);
  const std::string md = imsm::report::markdown_report(ws, {}, {"0.1.0", "2", "now", "host"});
  EXPECT_NE(md.find("| LoRA | -0.5000 [" + imsm::format_change(lora.low, 4) + ", " + imsm::format_change(lora.high, 4) + "] * |"), std::string::npos) << md;
  EXPECT_NE(md.find("| IMSM(LoRA) − LoRA | +0.4625 ["), std::string::npos) << md;
  EXPECT_NE(md.find("McNemar's exact test"), std::string::npos) << md;
  const std::string csv = imsm::report::results_csv(ws, {});
  EXPECT_NE(csv.find("\nLoRA,qa,EM,0.25,0,2,-0.5," + imsm::format_number(lora.low) + "," + imsm::format_number(lora.high) +
                     ",1.9073486328125e-06,McNemar exact,,,,,\r\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nIMSM(LoRA),qa,EM,0.712"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",0.5,McNemar randomization,LoRA,0.462"), std::string::npos) << csv;
}

// Axis ticks are round numbers covering the data: bars 0.5 ± 0.1414 and -0.4 ± 0.1414 span [-0.5414, 0.6414];
// a fifth of that is 0.237, rounded up to the step 0.25, so the axis runs -0.75 .. 0.75 in seven ticks.
TEST(Report, OneGateColourMapOrangeWhiteBlue) {
  using imsm::report::gate_rgb;
  using imsm::report::Rgb;
  EXPECT_EQ(gate_rgb(0), (Rgb{0xf2, 0x8e, 0x2b}));   // the fine-tuned model: Tableau orange
  EXPECT_EQ(gate_rgb(0.5), (Rgb{255, 255, 255}));    // both alike
  EXPECT_EQ(gate_rgb(1), (Rgb{0x4e, 0x79, 0xa7}));   // the original model: Tableau blue
  EXPECT_EQ(gate_rgb(0.75), (Rgb{167, 188, 211}));   // halfway white -> blue: (255 + 78) / 2 = 166.5 -> 167, ...
  EXPECT_EQ(gate_rgb(-3), gate_rgb(0));
  EXPECT_EQ(gate_rgb(7), gate_rgb(1));
  EXPECT_EQ(gate_rgb(std::nan("")), gate_rgb(0.5));
  // Text form: 55% over white. Blue (78, 121, 167): 255 + (78 - 255)·0.55 = 157.65 -> 158, 181.3 -> 181, 206.6 -> 207.
  EXPECT_EQ(imsm::report::gate_text_background(1), (Rgb{158, 181, 207}));
  EXPECT_EQ(imsm::report::hex(gate_rgb(0)), "#f28e2b");
}

TEST(Report, ChartAxesHaveRoundTicks) {
  const std::string bars = imsm::report::bar_chart({{"arith", {0.5}, {0.1414}}, {"qa", {-0.4}, {0.1414}}}, {"LoRA"}, "t", "change");
  for (const char* t : {">-0.75<", ">-0.50<", ">-0.25<", ">0.00<", ">0.25<", ">0.50<", ">0.75<"}) EXPECT_NE(bars.find(t), std::string::npos) << t;
  EXPECT_EQ(bars.find(">1.00<"), std::string::npos);
  EXPECT_EQ(bars.find("0.641"), std::string::npos);
  // Loss from 2.3 to 9.8: a fifth is 1.5 -> step 2, axis 2 .. 10.
  const std::string loss = imsm::report::line_chart({{"run", {1, 2, 3}, {9.8, 5.0, 2.3}, ""}}, "t", "step", "loss");
  for (const char* t : {">2<", ">4<", ">6<", ">8<", ">10<"}) EXPECT_NE(loss.find(t), std::string::npos) << t;
  EXPECT_EQ(loss.find(">12<"), std::string::npos);
}

// Equal scores over seeds are that score with std 0 exactly: 0.05 three times sums to 0.15000000000000002 in
// doubles, whose third is 0.05000000000000001 with a std of 1e-17 — which a CSV would print as it is.
TEST(Report, EqualScoresOverSeedsAreExact) {
  Fixture f;
  for (int64_t seed : {1, 2, 3}) f.eval_run(f.train_run("no-gate", seed), 0.05, 0.05);
  const auto t = imsm::report::aggregate_results(f.ws, {});
  ASSERT_EQ(t.rows.back().name, "IMSM-no-gate(LoRA)");
  const auto* cell = t.cell(t.rows.size() - 1, 1);
  ASSERT_TRUE(cell);
  EXPECT_EQ(cell->n, 3);
  EXPECT_EQ(cell->mean, 0.05);
  EXPECT_EQ(cell->std, 0.0);
  const std::string csv = imsm::report::results_csv(f.ws, {});
  EXPECT_NE(csv.find("\nIMSM-no-gate(LoRA),B,Contain,0.05,0,3,"), std::string::npos) << csv;
}

TEST(Report, HtmlIsWellFormedAndEscapesEveryText) {
  Fixture f;
  imsm::report::Options o;
  const std::string html = imsm::report::html_report(f.ws, o, {"0.1.0", "1.13", "now", kEvil});
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);              // loss curves and forgetting bars inline
  EXPECT_NE(html.find("title=\"id 1, gate 0.750\""), std::string::npos);  // tokens carry their gate
  const std::string path = f.dir.file("report.html");
  imsm::report::write_report(f.ws, o, {"0.1.0", "1.13", "now", "host"}, path);
  const int rc = std::system(("xmllint --noout " + path + " 2>" + f.dir.file("xmllint.err")).c_str());
  EXPECT_EQ(rc, 0) << "xmllint: not well-formed";
  expect_bad_input([&] { imsm::report::write_report(f.ws, o, {}, f.dir.file("report.pdf")); }, {"report.pdf", ".html, .md or .csv"});
}
