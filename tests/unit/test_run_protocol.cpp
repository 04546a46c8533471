// The run protocol (util/run_protocol.h) and the engine's side of what the
// window used to compute alone (views/run_table.h, expand_seeds,
// missing_input), against hand-written expectations.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "config/train_config.h"
#include "recipes/run_life.h"
#include "store/workspace.h"
#include "test_util.h"
#include "util/error.h"
#include "util/event_lines.h"
#include "util/run_protocol.h"
#include "views/run_table.h"

namespace {

using imsm::RunStatus;
using imsm::testing::TempDir;

TEST(RunProtocol, StatusNamesRoundTripAndTheirClasses) {
  const std::vector<std::pair<RunStatus, std::string>> names = {
      {RunStatus::Queued, "queued"},       {RunStatus::Running, "running"},     {RunStatus::Finished, "finished"},
      {RunStatus::Failed, "failed"},       {RunStatus::Cancelled, "cancelled"}, {RunStatus::Diverged, "diverged"},
      {RunStatus::Interrupted, "interrupted"}};
  for (const auto& [status, name] : names) {
    EXPECT_EQ(imsm::status_name(status), name);
    EXPECT_EQ(imsm::parse_run_status(name), status) << name;
  }
  EXPECT_FALSE(imsm::parse_run_status("Finished").has_value());  // the stored spelling only
  EXPECT_FALSE(imsm::parse_run_status("").has_value());
  // Final: what finish_run accepts; resumable: what `imsm runs resume` and the workbench's Resume accept.
  for (const auto& [status, name] : names) {
    const bool final = name == "finished" || name == "failed" || name == "cancelled" || name == "diverged";
    const bool resumable = name == "interrupted" || name == "cancelled" || name == "failed";
    EXPECT_EQ(imsm::is_final(status), final) << name;
    EXPECT_EQ(imsm::can_resume(status), resumable) << name;
  }
}

TEST(RunProtocol, CheckAbortThrowsCancelledOnlyWhenAsked) {
  imsm::Hooks none;
  EXPECT_NO_THROW(none.check_abort("x"));
  none.progress({"stage", 1, 2});  // empty members are no-ops
  none.step({});
  none.event({});
  bool stop = false;
  imsm::Hooks hooks;
  hooks.should_abort = [&] { return stop; };
  EXPECT_NO_THROW(hooks.check_abort("evaluation cancelled"));
  stop = true;
  EXPECT_EQ(imsm::testing::expect_cancelled([&] { hooks.check_abort("evaluation cancelled"); }), "evaluation cancelled");
}

nlohmann::json base_config() {
  return {{"model_path", "m"}, {"data_path", "d.jsonl"}, {"output_dir", "out/run"}};
}

// One recorder of a run's life for training and evaluation: the end the work
// reports, or cancelled / failed with the message when it throws, recorded
// after before_end and before the exception goes on.
TEST(RunProtocol, RecordRunRecordsEachEndAndRethrows) {
  TempDir dir;
  imsm::store::Workspace ws(dir.file("w.imsm"));
  auto new_run = [&] { return ws.create_run({"train", "t", dir.file("model"), "", "{}", "cpu", "", 1}); };
  std::vector<std::string> order;
  imsm::RunLife life;
  life.before_end = [&] { order.push_back("before_end"); };
  life.cancelled_note = [](const std::string& what) { return "note: " + what; };

  const int64_t diverged = new_run();
  imsm::record_run(ws, diverged, [&] {
    EXPECT_EQ(ws.run(diverged).status, RunStatus::Running);
    return imsm::RunEnd{RunStatus::Diverged, "loss not finite at step 3"};
  }, life);
  EXPECT_EQ(ws.run(diverged).status, RunStatus::Diverged);
  EXPECT_EQ(ws.run(diverged).message, "loss not finite at step 3");

  const int64_t cancelled = new_run();
  EXPECT_THROW(imsm::record_run(ws, cancelled, [&]() -> imsm::RunEnd { throw imsm::Error(imsm::ErrorKind::Cancelled, "stop"); }, life),
               imsm::Error);
  EXPECT_EQ(ws.run(cancelled).status, RunStatus::Cancelled);
  EXPECT_EQ(ws.run(cancelled).message, "note: stop");

  const int64_t failed = new_run();
  EXPECT_THROW(imsm::record_run(ws, failed, [&]() -> imsm::RunEnd { throw std::runtime_error("disk full"); }), std::runtime_error);
  EXPECT_EQ(ws.run(failed).status, RunStatus::Failed);
  EXPECT_EQ(ws.run(failed).message, "disk full");
  EXPECT_EQ(order, (std::vector<std::string>{"before_end", "before_end"}));  // the third had no RunLife
}

TEST(RunSettings, SeedsExpandToOneRunEachWithTheirOwnFolders) {
  const auto runs = imsm::expand_seeds(base_config(), " 3, 1  2,", "run settings");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].seed, 3u);
  EXPECT_EQ(runs[1].seed, 1u);
  EXPECT_EQ(runs[2].seed, 2u);
  EXPECT_EQ(runs[0].output_dir, "out/run-seed3");
  EXPECT_EQ(runs[2].output_dir, "out/run-seed2");
  const auto one = imsm::expand_seeds(base_config(), "7", "run settings");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].output_dir, "out/run");  // one seed: the folder as given
  imsm::testing::expect_bad_input([] { imsm::expand_seeds(base_config(), "1, x2", "run settings"); }, {"seed", "\"x2\""});
  imsm::testing::expect_bad_input([] { imsm::expand_seeds(base_config(), "-1", "run settings"); }, {"seed", "\"-1\""});
  imsm::testing::expect_bad_input([] { imsm::expand_seeds(base_config(), " , ", "run settings"); }, {"seed", "at least one"});
  auto bad = base_config();
  bad["lora_r"] = "eight";
  imsm::testing::expect_bad_input([&] { imsm::expand_seeds(bad, "1", "run settings"); }, {"run settings", "lora_r"});
}

// Found by fuzz_train_config: a --set override holding bytes that are not
// UTF-8, or a number beyond a double, is bad input with one printable line
// (before: nlohmann's type_error from an error message's own dump, an
// internal error; and a path that no JSON file can hold once training ended).
TEST(RunSettings, OverridesThatAreNotUtf8OrBeyondADoubleAreBadInput) {
  TempDir dir;
  imsm::testing::write_file(dir.file("c.json"), R"({"model_path": "m", "data_path": "d"})");
  imsm::testing::expect_bad_input([&] { imsm::read_train_config(dir.file("c.json"), {"output_dir=runs/\xFF"}); },
                                  {"output_dir", "runs/\\xFF", "not valid UTF-8"});
  imsm::testing::expect_bad_input([&] { imsm::read_train_config(dir.file("c.json"), {"layers_to_transform=[\xD9" "1]"}); },
                                  {"layers_to_transform", "is not a layer index"});
  imsm::testing::expect_bad_input([&] { imsm::read_train_config(dir.file("c.json"), {"lora_r=1e309"}); }, {"lora_r"});
}

TEST(RunSettings, MissingInputNamesTheFirstKeyWhoseFileIsNotThere) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("model"));
  auto c = imsm::parse_train_config(
      {{"model_path", dir.file("model")}, {"data_path", dir.file("train.jsonl")}, {"gate_probe_data", dir.file("probe.jsonl")}}, "t");
  EXPECT_EQ(imsm::missing_input(c), "model_path: " + dir.file("model") + " is not a Hugging Face model folder (no config.json)");
  imsm::testing::write_file(dir.file("model/config.json"), "{}");
  EXPECT_EQ(imsm::missing_input(c), "data_path: no file " + dir.file("train.jsonl"));
  // A project that makes the data before the run: the file need not exist yet.
  auto made = [&](const std::string& p) { return p == dir.file("train.jsonl"); };
  EXPECT_EQ(imsm::missing_input(c, made), "gate_probe_data: no file " + dir.file("probe.jsonl"));
  imsm::testing::write_file(dir.file("probe.jsonl"), "");
  EXPECT_EQ(imsm::missing_input(c, made), "");
  c.gate_probe_data.clear();  // optional
  imsm::testing::write_file(dir.file("train.jsonl"), "");
  EXPECT_EQ(imsm::missing_input(c), "");
}

// A training run with two metric rows and an IMSM adapter, an evaluation of
// that adapter (two scores), an evaluation of the base model and a failed
// evaluation of the adapter (its scores stay its own).
TEST(RunTable, JoinsRunsWithTheirMetricsAndTheEvaluationsOfTheirAdapter) {
  TempDir dir;
  imsm::store::Workspace ws(dir.file("w.imsm"));
  imsm::testing::write_file(dir.file("qa.jsonl"), "{}\n");
  const std::string config = R"({"peft": "lora", "variant": "query", "seed": 2})";
  const int64_t train = ws.create_run({"train", "t", dir.file("model"), "", config, "cpu", dir.file("out"), 2});
  ws.start_run(train);
  ws.add_train_metrics(train, {imsm::StepRecord{.step = 1, .loss = 2.5}, imsm::StepRecord{.step = 2, .loss = 1.25}});
  imsm::ResourceSample cpu_only, on_gpu;  // the monitor's samples: the peak is the larger memory of any
  cpu_only.rss_bytes = int64_t{3} << 29;   // 1.5 GiB
  on_gpu.rss_bytes = int64_t{1} << 30;
  on_gpu.seconds = 1;
  on_gpu.gpus.push_back({0, "GPU", 50, int64_t{5} << 30, int64_t{80} << 30, -1, -1});
  ws.add_resource_samples(train, {cpu_only});
  ws.finish_run(train, RunStatus::Finished);
  const int64_t eval = ws.create_run({"eval", "e", dir.file("model"), "", "{}", "cpu", "", 0, train});
  ws.start_run(eval);
  ws.add_evaluations(eval, dir.file("qa.jsonl"), {{"qa", "webq", "Contain", 0.5, 4, "", ""}, {"qa", "webq", "EM", 0.25, 4, "", ""}});
  ws.finish_run(eval, RunStatus::Finished);
  const int64_t base = ws.create_run({"eval", "b", dir.file("model"), "", "{}", "cpu", "", 0, 0});
  const int64_t failed = ws.create_run({"eval", "f", dir.file("model"), "", "{}", "cpu", "", 0, train});
  ws.start_run(failed);
  ws.add_evaluations(failed, dir.file("qa.jsonl"), {{"qa2", "webq", "Contain", 0.0, 4, "", ""}});
  ws.finish_run(failed, RunStatus::Failed, "out of memory");

  const auto rows = imsm::run_summaries(ws);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].method, "IMSM(LoRA)");
  EXPECT_EQ(rows[0].variant, "query");
  EXPECT_EQ(rows[0].steps, 2);
  EXPECT_EQ(rows[0].final_loss, 1.25);
  ASSERT_EQ(rows[0].scores.size(), 2u);  // the finished evaluation's, not the failed one's
  EXPECT_EQ(rows[0].scores[1], (std::pair<std::string, double>{"qa EM", 0.25}));
  EXPECT_EQ(rows[1].method, "IMSM(LoRA) (run 1)");
  EXPECT_EQ(rows[1].seed, 2);
  EXPECT_EQ(rows[2].id, base);
  EXPECT_EQ(rows[2].method, "base model");
  EXPECT_EQ(rows[2].status, RunStatus::Queued);
  EXPECT_EQ(rows[3].message, "out of memory");
  EXPECT_EQ(rows[0].peak.rss_bytes, int64_t{3} << 29);
  EXPECT_EQ(rows[0].peak.gpu_memory_bytes, -1);
  EXPECT_EQ(rows[1].peak.rss_bytes, -1);  // nothing recorded

  const imsm::Table t = imsm::runs_table(rows);
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.rows[0][2], "finished");
  EXPECT_EQ(t.rows[0][4], "model");  // the model folder's name
  EXPECT_EQ(t.header[7], "peak memory");
  EXPECT_EQ(t.rows[0][7], "1.50 GiB RAM");
  EXPECT_EQ(t.rows[1][7], "");
  EXPECT_EQ(t.rows[0][8], "step 2 loss 1.25");
  EXPECT_EQ(t.rows[1][8], "qa Contain 0.5 (+1)");
  EXPECT_EQ(t.rows[2][8], "");
  EXPECT_EQ(t.rows[2][6], "");  // never ran: no duration
  ws.add_resource_samples(eval, {on_gpu});  // a GPU's memory is what a GPU run's peak says
  EXPECT_EQ(imsm::runs_table(imsm::run_summaries(ws)).rows[1][7], "5.00 GiB GPU");
}

// The waterfall's file: by step, a resumed run's later line of a step counting; a bad line named with its number.
TEST(RunTable, GateProbesByStepLastLineCounts) {
  TempDir dir;
  imsm::store::RunRecord run;
  run.output_dir = dir.path().string();
  EXPECT_TRUE(imsm::gate_probes_of(run).empty());  // no file: none
  imsm::testing::write_file(dir.file(imsm::kGateProbesFile), "{\"step\": 4, \"gate\": [0.5, 0.25]}\n{\"step\": 2, \"gate\": [0.75, 1]}\n"
                                               "{\"step\": 4, \"gate\": [0.125, 0.5]}\n");
  const auto probes = imsm::gate_probes_of(run);
  ASSERT_EQ(probes.size(), 2u);
  EXPECT_EQ(probes[0].step, 2);
  EXPECT_EQ(probes[1].gate, (std::vector<float>{0.125f, 0.5f}));
  imsm::testing::write_file(dir.file(imsm::kGateProbesFile), "{\"step\": 1, \"gate\": [0.5]}\n{\"step\": 2, \"gate\": \"x\"}\n");
  imsm::testing::expect_bad_input([&] { imsm::gate_probes_of(run); }, {std::string(imsm::kGateProbesFile) + ":2", "not a gate probe line"});
}

TEST(RunTable, ImsmSourceOfAFinishedTrainingRunWithAGate) {
  TempDir dir;
  imsm::store::RunRecord r;
  r.kind = "train";
  r.status = RunStatus::Finished;
  r.model_path = dir.file("model");
  r.device = "cuda:1";
  r.output_dir = dir.file("out");
  r.config_json = R"({"variant": "query", "dtype": "bf16"})";
  EXPECT_FALSE(imsm::imsm_source_of(r));  // no adapter folder
  std::filesystem::create_directories(dir.file("out/adapter"));
  imsm::testing::write_file(dir.file("out/adapter/imsm_config.json"), "{}");
  EXPECT_EQ(imsm::imsm_source_of(r), (imsm::ModelSource{dir.file("model"), dir.file("out/adapter"), imsm::DeviceSpec{true, 1}, imsm::Precision::BF16}));  // as it trained
  r.config_json = R"({"variant": "none"})";
  EXPECT_FALSE(imsm::imsm_source_of(r));  // the PEFT method alone
  r.config_json = R"({"variant": "query"})";
  EXPECT_EQ(imsm::imsm_source_of(r).value().dtype, imsm::Precision::Auto);
  r.status = RunStatus::Cancelled;
  EXPECT_FALSE(imsm::imsm_source_of(r));
  r.status = RunStatus::Finished;
  r.kind = "eval";
  EXPECT_FALSE(imsm::imsm_source_of(r));
}

TEST(RunTable, StoredTokensBecomeTracesWithTheirGateRange) {
  imsm::store::Prediction p;
  p.tokens = {{10, "a", 0.25f, {0.0f, 0.5f}}, {11, "b", 0.75f, {}}};
  const auto traces = imsm::traces_of(p);
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[0].id, 10);
  EXPECT_EQ(traces[0].piece, "a");
  EXPECT_EQ(traces[0].gate_min, 0.0f);
  EXPECT_EQ(traces[0].gate_max, 0.5f);
  EXPECT_EQ(traces[1].gate_min, 0.75f);  // no full gate kept: the range is the mean
  EXPECT_EQ(traces[1].gate_max, 0.75f);
  EXPECT_TRUE(traces[1].gate.empty());
}

// The JSON lines a driver reads from `imsm --events`: each kind written and
// read back into Hooks with every field; other lines are not events.
TEST(EventLines, EachKindGoesThroughALineIntoHooks) {
  imsm::StepRecord s;
  s.step = 3;
  s.total_steps = 40;
  s.epoch = 1;
  s.loss = 2.25;
  s.learning_rate = 3e-4;
  s.grad_norm = 0.5;
  s.tokens_per_second = 1520;
  s.eta_seconds = 12.5;
  s.gate_mean = 0.625;
  EXPECT_EQ(imsm::event_line(imsm::RunEvent{imsm::RunEvent::Kind::RunCreated, 7, "", 0}), R"({"type":"run_created","run_id":7})");
  std::vector<imsm::StepRecord> steps;
  std::vector<imsm::Progress> progress;
  std::vector<imsm::RunEvent> events;
  imsm::Hooks hooks;
  hooks.on_step = [&](const imsm::StepRecord& r) { steps.push_back(r); };
  hooks.on_progress = [&](const imsm::Progress& p) { progress.push_back(p); };
  hooks.on_event = [&](const imsm::RunEvent& e) { events.push_back(e); };
  std::ostringstream out;
  const imsm::Hooks writing = imsm::with_event_lines(imsm::Hooks{}, out);
  writing.step(s);
  writing.progress({"train", 2, 8, "IMSM(LoRA) seed 1 (1/2) \xE2\x80\x94 \"quoted\"", 30});
  writing.event({imsm::RunEvent::Kind::RunCreated, 7, "", 0});
  writing.event({imsm::RunEvent::Kind::Checkpoint, 0, "/runs/a b/checkpoint-20", 20});
  imsm::RunEvent validation;
  validation.kind = imsm::RunEvent::Kind::Validation;
  validation.validation = {20, 1, "wordnet-qa", "Contain", 0.3125};
  writing.event(validation);
  writing.event({imsm::RunEvent::Kind::BestAdapter, 0, "/runs/a b/best-adapter", 20});
  std::istringstream lines(out.str() + "torchrun: a line of its own\n");
  int dispatched = 0, other = 0;
  for (std::string line; std::getline(lines, line);) (imsm::dispatch_event_line(line, hooks) ? dispatched : other)++;
  EXPECT_EQ(dispatched, 6);
  EXPECT_EQ(other, 1);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].step, 3);
  EXPECT_EQ(steps[0].total_steps, 40);
  EXPECT_EQ(steps[0].epoch, 1);
  EXPECT_EQ(steps[0].loss, 2.25);
  EXPECT_EQ(steps[0].learning_rate, 3e-4);
  EXPECT_EQ(steps[0].grad_norm, 0.5);
  EXPECT_EQ(steps[0].tokens_per_second, 1520);
  EXPECT_EQ(steps[0].eta_seconds, 12.5);
  EXPECT_EQ(steps[0].gate_mean, 0.625);
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].stage, "train");
  EXPECT_EQ(progress[0].done, 2);
  EXPECT_EQ(progress[0].total, 8);
  EXPECT_EQ(progress[0].detail, "IMSM(LoRA) seed 1 (1/2) \xE2\x80\x94 \"quoted\"");
  EXPECT_EQ(progress[0].eta_seconds, 30);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, imsm::RunEvent::Kind::RunCreated);
  EXPECT_EQ(events[0].run_id, 7);
  EXPECT_EQ(events[1].kind, imsm::RunEvent::Kind::Checkpoint);
  EXPECT_EQ(events[1].path, "/runs/a b/checkpoint-20");
  EXPECT_EQ(events[1].step, 20);
  EXPECT_EQ(events[2].kind, imsm::RunEvent::Kind::Validation);
  EXPECT_EQ(events[2].validation.step, 20);
  EXPECT_EQ(events[2].validation.epoch, 1);
  EXPECT_EQ(events[2].validation.benchmark, "wordnet-qa");
  EXPECT_EQ(events[2].validation.metric, "Contain");
  EXPECT_EQ(events[2].validation.value, 0.3125);
  EXPECT_EQ(events[3].kind, imsm::RunEvent::Kind::BestAdapter);
  EXPECT_EQ(events[3].path, "/runs/a b/best-adapter");
  EXPECT_EQ(events[3].step, 20);
  imsm::StepRecord diverged = s;
  diverged.loss = std::numeric_limits<double>::quiet_NaN();  // JSON has no NaN: written as null, read back as NaN
  EXPECT_TRUE(imsm::dispatch_event_line(imsm::event_line(diverged), hooks));
  EXPECT_TRUE(std::isnan(steps.back().loss));
  imsm::testing::expect_bad_input([&] { imsm::dispatch_event_line(R"({"type":"step","step":1})", hooks); }, {"event line", "total_steps"});
  imsm::testing::expect_bad_input([&] { imsm::dispatch_event_line(R"({"type": broken)", hooks); }, {"event line", "not a JSON object"});
}

}  // namespace
