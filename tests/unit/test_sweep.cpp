// Sweep grids: the axes' text, the cells (every combination × seeds, labels,
// folders, the "sweep" key, each through the engine's parser), and the chart's
// points read back from a workspace written through the store. Expected
// values are written out by hand.
#include <gtest/gtest.h>

#include "config/sweep_grid.h"
#include "test_util.h"
#include "views/sweep.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;

namespace {
nlohmann::json base() {
  return {{"model_path", "m"}, {"data_path", "d.jsonl"}, {"peft", "lora"}, {"variant", "query"}, {"output_dir", "runs/x"}};
}
}  // namespace

TEST(Sweep, ParsesAxes) {
  const auto axes = imsm::parse_sweep_axes("learning_rate = 1e-4, 3e-4\n\n variant=query, none ; lora_r = 8");
  ASSERT_EQ(axes.size(), 3u);
  EXPECT_EQ(axes[0].key, "learning_rate");
  ASSERT_EQ(axes[0].values.size(), 2u);
  EXPECT_DOUBLE_EQ(axes[0].values[1].get<double>(), 3e-4);
  EXPECT_EQ(axes[1].values[1], "none");  // text where it is not JSON
  EXPECT_TRUE(axes[2].values[0].is_number_integer());
  expect_bad_input([] { imsm::parse_sweep_axes("learning_rate 1e-4"); }, {"KEY = VALUE"});
  expect_bad_input([] { imsm::parse_sweep_axes("lora_r = 8,,16"); }, {"lora_r: an empty value"});
  expect_bad_input([] { imsm::parse_sweep_axes("lora_r = 8\nlora_r = 16"); }, {"\"lora_r\" is swept twice"});
  expect_bad_input([] { imsm::parse_sweep_axes("seed = 1, 2"); }, {"own field"});
}

TEST(Sweep, ExpandsEveryCellTimesSeeds) {
  const auto axes = imsm::parse_sweep_axes("learning_rate = 0.001, 0.002\nvariant = query, none");
  const auto runs = imsm::expand_sweep(base(), axes, "1, 2", "lr");
  ASSERT_EQ(runs.size(), 8u);  // 2 × 2 cells × 2 seeds, the first axis slowest
  EXPECT_DOUBLE_EQ(runs[0].learning_rate, 0.001);
  EXPECT_EQ(runs[0].variant, imsm::GateVariant::Query);
  EXPECT_EQ(runs[0].seed, 1u);
  EXPECT_EQ(runs[1].seed, 2u);
  EXPECT_EQ(runs[2].variant, imsm::GateVariant::None);
  EXPECT_DOUBLE_EQ(runs[4].learning_rate, 0.002);
  EXPECT_EQ(runs[0].label, "IMSM(LoRA) · learning_rate=0.001, variant=query");
  EXPECT_EQ(runs[2].label, "LoRA · learning_rate=0.001, variant=none");
  EXPECT_EQ(runs[0].output_dir, "runs/x/lr/learning_rate=0.001,variant=query-seed1");
  for (const auto& r : runs) EXPECT_EQ(r.sweep, "lr");
  nlohmann::json labelled = base();
  labelled["label"] = "mine";
  const auto one = imsm::expand_sweep(labelled, imsm::parse_sweep_axes("lora_r = 4"), "7", "r");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].label, "mine · lora_r=4");
  EXPECT_EQ(one[0].output_dir, "runs/x/r/lora_r=4");  // one seed: no -seedN
  expect_bad_input([] { imsm::expand_sweep(base(), imsm::parse_sweep_axes("lora_r = -4"), "1", "bad"); }, {"lora_r"});
  expect_bad_input([] { imsm::expand_sweep(base(), imsm::parse_sweep_axes("variant = maybe"), "1", "bad"); }, {"variant"});
  expect_bad_input([] { imsm::expand_sweep(base(), {}, "1", " "); }, {"name"});
}

TEST(Sweep, ChartPointsFromTheWorkspace) {
  TempDir dir;
  imsm::store::Workspace ws(dir.file("ws.imsm"));
  imsm::testing::write_file(dir.file("q.jsonl"), "{\"input\": \"q\", \"output\": \"a\"}\n");
  const auto runs = imsm::expand_sweep(base(), imsm::parse_sweep_axes("learning_rate = 0.001, 0.01\nvariant = query, none"), "1", "g");
  const double scores[] = {0.5, 0.25, 0.75, 0.125};
  for (size_t i = 0; i < runs.size(); ++i) {
    const int64_t id = ws.create_run({"train", "t", "m", "", runs[i].to_json().dump(), "cpu", runs[i].output_dir, 1, 0});
    ws.start_run(id);
    ws.finish_run(id, imsm::RunStatus::Finished);
    if (i == 3) continue;  // not evaluated yet
    const int64_t e = ws.create_run({"eval", "e", "m", "", "{}", "cpu", "", 0, id});
    ws.start_run(e);
    ws.add_evaluations(e, dir.file("q.jsonl"), {{"qa", "webq", "EM", scores[i], 4, "", ""}});
    ws.finish_run(e, imsm::RunStatus::Finished);
  }
  ws.create_run({"train", "other", "m", "", base().dump(), "cpu", "", 1, 0});  // not of the sweep
  EXPECT_EQ(imsm::sweep_names(ws), std::vector<std::string>{"g"});
  const imsm::SweepData d = imsm::sweep_data(ws, "g");
  EXPECT_EQ(d.keys, (std::vector<std::string>{"learning_rate", "variant"}));
  EXPECT_EQ(d.scores, std::vector<std::string>{"qa EM"});
  ASSERT_EQ(d.runs.size(), 4u);
  const auto lr = imsm::sweep_points(d, "learning_rate", "qa EM");
  ASSERT_EQ(lr.size(), 3u);
  EXPECT_DOUBLE_EQ(lr[2].x, 0.01);
  EXPECT_EQ(lr[2].series, "variant=query");
  EXPECT_DOUBLE_EQ(lr[2].value, 0.75);
  const auto variant = imsm::sweep_points(d, "variant", "qa EM");  // text: categories by first appearance
  ASSERT_EQ(variant.size(), 3u);
  EXPECT_EQ(variant[1].x_text, "none");
  EXPECT_DOUBLE_EQ(variant[1].x, 1);
  EXPECT_DOUBLE_EQ(variant[0].x, 0);
  EXPECT_EQ(variant[1].series, "learning_rate=0.001");
}
