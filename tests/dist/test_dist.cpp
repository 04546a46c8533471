// Several processes over c10d (Gloo on the CPU, loopback), started by the
// venv's torchrun exactly as users start the engine: collectives against
// hand-computed values, a dead rank ends the other within the timeout with one
// line naming it, and the launch variables are read (or refused) as stated.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <cstring>

#include <nlohmann/json.hpp>

#include "../cli/cli_util.h"
#include "dist/launch.h"
#include "dist/torchrun.h"
#include "io/safetensors.h"
#include "store/workspace.h"
#include "util/run_protocol.h"

using imsm::clitest::imsm_run;
using imsm::clitest::model_dir;
using imsm::clitest::Result;
using imsm::clitest::run_program;
using imsm::clitest::TempDir;
using imsm::testing::write_file;

namespace {

Result torchrun(const std::string& mode, const std::string& env = "") {
  return run_program(IMSM_TORCHRUN, {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_DIST_WORKER, mode}, env);
}

TEST(Dist, TwoProcessesAllReduceAllGatherAndMeet) {
  const Result r = torchrun("collectives");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rank 0 of 2: collectives ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1 of 2: collectives ok"), std::string::npos) << r.out;
}

// A rank that dies: torchrun stops the other at once and names the dead rank.
TEST(Dist, ADeadRankStopsTheOtherNamingIt) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = torchrun("die", "IMSM_DIST_TIMEOUT=30");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.code, 0);
  EXPECT_LT(seconds, 30) << "sooner than the collective timeout";
  EXPECT_NE((r.out + r.err).find("local_rank: 1 (pid"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("exitcode: 3"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("no error although"), std::string::npos) << r.out;
}

// A rank that hangs: the other's collective fails after IMSM_DIST_TIMEOUT
// with one line naming itself, the operation and the timeout; then torchrun
// stops the silent one. Never a silent hang.
TEST(Dist, AHungRankStopsTheOtherWithinTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = torchrun("hang", "IMSM_DIST_TIMEOUT=5");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.code, 0);
  EXPECT_LT(seconds, 60) << "the 5 s timeout, torchrun's start-up and its stop of rank 1";
  EXPECT_NE(r.out.find("rank 0 stopped after"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("rank 0 of 2: barrier failed: another process died or did not answer within 5 s"), std::string::npos) << r.out;
}

// The largest |a - b| over every tensor of two safetensors files with the same names and shapes (f32).
double max_abs_difference(const std::string& a_path, const std::string& b_path) {
  const auto a = imsm::SafetensorsFile::open(a_path), b = imsm::SafetensorsFile::open(b_path);
  EXPECT_EQ(a.tensors().size(), b.tensors().size());
  double worst = 0;
  for (const auto& ta : a.tensors()) {
    const imsm::TensorView* tb = b.find(ta.name);
    if (!tb || tb->shape != ta.shape || ta.dtype != imsm::DType::F32) {
      ADD_FAILURE() << ta.name << " differs in name, shape or dtype";
      continue;
    }
    for (int64_t i = 0; i < ta.numel(); ++i) {
      float x, y;
      std::memcpy(&x, ta.data + 4 * i, 4);
      std::memcpy(&y, tb->data + 4 * i, 4);
      worst = std::max(worst, static_cast<double>(std::abs(x - y)));
    }
  }
  return worst;
}

// batch_size is the global batch: 2 processes train the adapter 1 process
// trains (dropout off), for LoRA and for IMSM(LoRA); only rank 0 writes.
TEST(Dist, TwoProcessesTrainTheAdapterOfOne) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 20; ++i)  // answers of different lengths: the ranks' shards hold different token counts
    lines += "{\"input\": \"Repeat: cat " + std::to_string(i) + "\", \"output\": \"cat " + std::string(static_cast<size_t>(i % 4 + 1), 'x') + "\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  for (const std::string variant : {"none", "query"}) {
    SCOPED_TRACE(variant);
    const nlohmann::json config = {{"model_path", model_dir()}, {"data_path", dir.file("train.jsonl")}, {"max_input_length", 32},
                                   {"max_output_length", 16}, {"peft", "lora"}, {"variant", variant}, {"lora_r", 4}, {"lora_alpha", 8},
                                   {"lora_dropout", 0.0}, {"dropout_prob", 0.0}, {"gate_rank", 4}, {"num_epochs", 2}, {"batch_size", 6},
                                   {"learning_rate", 1e-2}, {"gate_probe_examples", 0}};
    const std::string one = dir.file(variant + "-1"), two = dir.file(variant + "-2");
    for (const auto& [file, out] : {std::pair{variant + "-1.json", one}, std::pair{variant + "-2.json", two}}) {
      nlohmann::json j = config;
      j["output_dir"] = out;
      write_file(dir.file(file), j.dump());
    }
    const Result a = imsm_run({"train", "--config", dir.file(variant + "-1.json")});
    ASSERT_EQ(a.code, 0) << a.err;
    const Result b = run_program(IMSM_TORCHRUN, {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_BINARY, "train", "--config",
                                                 dir.file(variant + "-2.json")});
    ASSERT_EQ(b.code, 0) << b.out << b.err;
    EXPECT_NE(b.err.find("8/8"), std::string::npos) << "rank 0's progress: the global step" << b.err;
    // Tolerance: the same sums in another order (per-rank partial sums, then the all-reduce), fp32, 8 AdamW steps.
    EXPECT_LE(max_abs_difference(one + "/adapter/adapter_model.safetensors", two + "/adapter/adapter_model.safetensors"), 1e-5);
    if (variant == "query") {
      EXPECT_LE(max_abs_difference(one + "/adapter/imsm_gate.safetensors", two + "/adapter/imsm_gate.safetensors"), 1e-5);
    }
    std::vector<std::string> files_one, files_two;  // rank 1 wrote nothing of its own
    for (const auto& e : std::filesystem::recursive_directory_iterator(one)) files_one.push_back(std::filesystem::relative(e.path(), one).string());
    for (const auto& e : std::filesystem::recursive_directory_iterator(two)) files_two.push_back(std::filesystem::relative(e.path(), two).string());
    std::sort(files_one.begin(), files_one.end());
    std::sort(files_two.begin(), files_two.end());
    EXPECT_EQ(files_one, files_two);
  }
  // A checkpoint of 1 process does not resume on 2: the shares of each batch would differ.
  const Result resumed = run_program(IMSM_TORCHRUN, {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_BINARY, "train", "--config",
                                                     dir.file("none-2.json"), "--set", "resume_from=" + dir.file("none-1/checkpoint-4"),
                                                     "--set", "output_dir=" + dir.file("resumed")});
  EXPECT_NE(resumed.code, 0);
  EXPECT_NE(resumed.err.find("made by 1 process(es), this run has 2: resume with torchrun --nproc-per-node 1"), std::string::npos) << resumed.err;
}

// Dropout on: each rank draws its own masks, and a checkpoint keeps every
// rank's generators, so a run resumed on 2 processes trains exactly the
// adapter of the run that was never stopped (bit for bit: same arithmetic,
// same masks).
TEST(Dist, ResumeOnTwoProcessesRestoresEveryRanksDropout) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 20; ++i) {  // prompts of 1 to 7 words: the ranks' shards pad to different lengths, so draw different numbers of masks
    std::string words;
    for (int w = 0; w <= (i * 5) % 7; ++w) words += " bird";
    lines += "{\"input\": \"Copy:" + words + "\", \"output\": \"bird " + std::to_string(i % 3) + "\"}\n";
  }
  write_file(dir.file("train.jsonl"), lines);
  const nlohmann::json config = {{"model_path", model_dir()}, {"data_path", dir.file("train.jsonl")}, {"max_input_length", 32},
                                 {"max_output_length", 8}, {"peft", "lora"}, {"variant", "query"}, {"lora_r", 4}, {"gate_rank", 4},
                                 {"lora_dropout", 0.3}, {"dropout_prob", 0.3}, {"num_epochs", 2}, {"batch_size", 6}, {"save_steps", 2},
                                 {"learning_rate", 1e-2}, {"output_dir", dir.file("whole")}};
  write_file(dir.file("config.json"), config.dump());
  const std::vector<std::string> two = {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_BINARY, "train", "--config", dir.file("config.json")};
  const Result whole = run_program(IMSM_TORCHRUN, two);
  ASSERT_EQ(whole.code, 0) << whole.out << whole.err;
  std::vector<std::string> resume = two;
  resume.insert(resume.end(), {"--set", "resume_from=" + dir.file("whole/checkpoint-2"), "--set", "output_dir=" + dir.file("resumed")});
  const Result resumed = run_program(IMSM_TORCHRUN, resume);
  ASSERT_EQ(resumed.code, 0) << resumed.out << resumed.err;
  EXPECT_EQ(max_abs_difference(dir.file("whole/adapter/adapter_model.safetensors"), dir.file("resumed/adapter/adapter_model.safetensors")), 0.0);
  EXPECT_EQ(max_abs_difference(dir.file("whole/adapter/imsm_gate.safetensors"), dir.file("resumed/adapter/imsm_gate.safetensors")), 0.0);
}

// Evaluation over 2 processes: the batches dealt round the ranks, every answer
// gathered to rank 0, which scores and writes: the predictions file is the
// one 1 process writes, byte for byte (the same batches, so the same tokens).
TEST(Dist, TwoProcessesEvaluateAsOne) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 21; ++i) lines += "{\"input\": \"Question " + std::to_string(i) + std::string(static_cast<size_t>(i % 5), '?') + "\", \"output\": [\"a\", \"b\"]}\n";
  write_file(dir.file("test.jsonl"), lines);
  const std::vector<std::string> args = {"eval", "--model", model_dir(), "--dataset", dir.file("test.jsonl"), "--task", "webq",
                                         "--max-new-tokens", "6", "--batch-size", "4", "--json"};
  auto with = [&](const std::string& predictions) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--predictions", predictions});
    return a;
  };
  const Result one = imsm_run(with(dir.file("one.jsonl")));
  ASSERT_EQ(one.code, 0) << one.err;
  std::vector<std::string> two_args = {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_BINARY};
  for (const auto& a : with(dir.file("two.jsonl"))) two_args.push_back(a);
  const Result two = run_program(IMSM_TORCHRUN, two_args);
  ASSERT_EQ(two.code, 0) << two.out << two.err;
  EXPECT_EQ(imsm::clitest::slurp(dir.file("one.jsonl")), imsm::clitest::slurp(dir.file("two.jsonl")));
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(two.out);  // rank 0 alone printed
  EXPECT_EQ(a["examples"], 21);
  EXPECT_EQ(a["examples"], b["examples"]);
  EXPECT_EQ(a["Contain"], b["Contain"]);
  EXPECT_EQ(a["EM"], b["EM"]);
}

// A project under torchrun: rank 0 makes the data, records and reports; both
// processes train and evaluate their shares. The adapter is the one 1 process
// trains, rank 1 wrote nothing of its own, and a second launch reuses the run.
TEST(Dist, TwoProcessesRunAProjectAsOne) {
  TempDir dir;
  const nlohmann::json project = {
      {"name", "duo"}, {"model", model_dir()}, {"output_dir", "out"},
      {"data", {{"train", {{"task", "arith"}, {"count", 24}, {"seed", 1}}}, {"test", {{"task", "arith"}, {"count", 10}, {"seed", 2}}}}},
      {"suite", {{"batch_size", 3}, {"benchmarks", {{{"name", "arith"}, {"dataset", "test"}, {"task", "gsm8k"}, {"metric", "Accuracy"}, {"max_new_tokens", 4}}}}}},
      {"train", {{"data", "train"}, {"num_epochs", 1}, {"batch_size", 8}, {"lora_r", 2}, {"gate_rank", 2}, {"lora_dropout", 0.0},
                 {"dropout_prob", 0.0}, {"max_input_length", 48}, {"max_output_length", 16}}},
      {"runs", {{{"peft", "lora"}, {"variant", "query"}}}},
      {"seeds", {1}}};
  write_file(dir.file("duo.json"), project.dump());
  nlohmann::json solo = project;
  solo["output_dir"] = "solo";
  write_file(dir.file("solo.json"), solo.dump());
  const std::vector<std::string> two = {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_BINARY, "project", dir.file("duo.json")};
  const Result first = run_program(IMSM_TORCHRUN, two);
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  EXPECT_NE(first.err.find("1 training runs (0 reused), 2 evaluations"), std::string::npos) << first.err;
  const Result one = imsm_run({"project", dir.file("solo.json")});
  ASSERT_EQ(one.code, 0) << one.err;
  // Tolerance: as TwoProcessesTrainTheAdapterOfOne (the same sums in another order, fp32, 3 steps).
  EXPECT_LE(max_abs_difference(dir.file("solo/IMSM-LoRA-seed1/adapter/adapter_model.safetensors"),
                               dir.file("out/IMSM-LoRA-seed1/adapter/adapter_model.safetensors")), 1e-5);
  auto files = [](const std::string& root) {  // the frozen-memory cache aside: a file per rank, by design
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      const std::string name = std::filesystem::relative(e.path(), root).string();
      if (e.path().filename().string().rfind("workspace.imsm", 0) != 0 && name.rfind(".imsm-cache", 0) != 0) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  EXPECT_EQ(files(dir.file("solo")), files(dir.file("out")));
  const std::string csv = imsm::clitest::slurp(dir.file("out/report.csv"));
  EXPECT_NE(csv.find("\nIMSM(LoRA),arith,Accuracy,"), std::string::npos) << csv;
  const Result again = run_program(IMSM_TORCHRUN, two);
  ASSERT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_NE(again.err.find("1 training runs (1 reused), 2 evaluations (2 reused)"), std::string::npos) << again.err;
}

// The workbench's way: dist::run_torchrun starts `imsm --events train` on 2
// processes; rank 0's steps arrive once each, in order, with the global step;
// a cancel stops every rank at one step (torchrun has returned), rank 0
// recorded the run as cancelled with a checkpoint, and the run resumes on 2
// processes to its last step.
TEST(Dist, TheLauncherPassesRankZerosStepsAndCancelStopsEveryRank) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 20; ++i) lines += "{\"input\": \"Repeat: dog " + std::to_string(i) + "\", \"output\": \"dog\"}\n";
  write_file(dir.file("train.jsonl"), lines);
  const nlohmann::json config = {{"model_path", model_dir()}, {"data_path", dir.file("train.jsonl")}, {"max_input_length", 32},
                                 {"max_output_length", 8}, {"peft", "lora"}, {"variant", "query"}, {"lora_r", 2}, {"gate_rank", 2},
                                 {"num_epochs", 20}, {"batch_size", 2}, {"output_dir", dir.file("out")}};
  write_file(dir.file("config.json"), config.dump());
  const std::string ws = dir.file("ws.imsm");
  std::vector<imsm::StepRecord> steps;
  int64_t run_id = 0;
  imsm::Hooks hooks;
  hooks.on_step = [&](const imsm::StepRecord& r) { steps.push_back(r); };
  hooks.on_event = [&](const imsm::RunEvent& e) {
    if (e.kind == imsm::RunEvent::Kind::RunCreated) run_id = e.run_id;
  };
  std::chrono::steady_clock::time_point asked;
  hooks.should_abort = [&] {
    if (steps.size() < 3) return false;
    if (asked == std::chrono::steady_clock::time_point{}) asked = std::chrono::steady_clock::now();
    return true;
  };
  const imsm::dist::TorchrunJob job{IMSM_TORCHRUN, IMSM_BINARY, 2, {"train", "--config", dir.file("config.json"), "--workspace", ws}};
  const imsm::dist::TorchrunOutcome cancelled = imsm::dist::run_torchrun(job, hooks);
  const double stop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  EXPECT_TRUE(cancelled.cancelled);
  EXPECT_NE(cancelled.exit_code, 0);
  EXPECT_LT(stop_seconds, 30) << "every rank stopped within torchrun's 30 s grace (a step here takes milliseconds)";
  ASSERT_GE(steps.size(), 3u);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].step, static_cast<int64_t>(i + 1)) << "rank 0 alone reports, each global step once";
    EXPECT_EQ(steps[i].total_steps, 200);  // 20 examples / global batch 2 x 20 epochs
  }
  ASSERT_GT(run_id, 0);
  {
    const imsm::store::Workspace w(ws, imsm::store::Workspace::Mode::ReadOnly);
    const auto run = w.run(run_id);
    EXPECT_EQ(std::string(imsm::status_name(run.status)), "cancelled");
    EXPECT_NE(run.last_checkpoint.find("checkpoint-" + std::to_string(steps.back().step)), std::string::npos) << run.last_checkpoint;
  }
  steps.clear();
  hooks.should_abort = {};
  const imsm::dist::TorchrunOutcome resumed =
      imsm::dist::run_torchrun({IMSM_TORCHRUN, IMSM_BINARY, 2, {"runs", "resume", std::to_string(run_id), "--workspace", ws}}, hooks);
  EXPECT_EQ(resumed.exit_code, 0) << resumed.error;
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back().step, 200);
  const imsm::store::Workspace w(ws, imsm::store::Workspace::Mode::ReadOnly);
  EXPECT_EQ(std::string(imsm::status_name(w.run(run_id).status)), "finished");
  EXPECT_EQ(w.train_metrics(run_id).back().step, 200);
  imsm::testing::expect_bad_input([&] { imsm::dist::run_torchrun({dir.file("no-torchrun"), IMSM_BINARY, 2, {"env"}}, {}); },
                                  {"no-torchrun", "installer/setup-venv.sh"});
}

TEST(Dist, LaunchVariablesAreReadOrRefusedByName) {
  unsetenv("WORLD_SIZE");
  unsetenv("RANK");
  unsetenv("LOCAL_RANK");
  unsetenv("MASTER_ADDR");
  EXPECT_FALSE(imsm::dist::launch_from_environment().distributed());
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "3", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "10.0.0.2", 1);
  setenv("MASTER_PORT", "29555", 1);
  const auto l = imsm::dist::launch_from_environment();
  EXPECT_EQ(l.world_size, 4);
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.master_addr, "10.0.0.2");
  EXPECT_EQ(l.master_port, 29555);
  EXPECT_FALSE(l.writer());
  setenv("RANK", "4", 1);
  imsm::testing::expect_bad_input([] { imsm::dist::launch_from_environment(); }, {"RANK", "outside [0, 3]"});
  setenv("RANK", "x", 1);
  imsm::testing::expect_bad_input([] { imsm::dist::launch_from_environment(); }, {"RANK", "\"x\""});
  setenv("RANK", "0", 1);
  unsetenv("MASTER_ADDR");
  imsm::testing::expect_bad_input([] { imsm::dist::launch_from_environment(); }, {"MASTER_ADDR", "torchrun"});
  for (const char* v : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_PORT"}) unsetenv(v);
}

}  // namespace
