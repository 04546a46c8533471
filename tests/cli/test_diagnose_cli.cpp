// `imsm diagnose gate` end to end on an IMSM adapter trained here on the
// bundled model: the gate it reads at each position, teacher-forced on a row
// whose answer is what the adapter itself generated, is the gate `imsm
// generate` reported for each of those tokens (another path: one row, a KV
// cache, token by token); its tallies add up to its tokens; a LoRA adapter
// (no gate) is refused with one line.
#include <nlohmann/json.hpp>

#include <cmath>

#include "cli_util.h"

using imsm::testing::write_file;
using namespace imsm::clitest;

namespace {

const std::string kBundled = std::string(IMSM_SOURCE_DIR) + "/resources/models/wordnet-base";

std::string train_adapter(const TempDir& dir, const std::string& name, const std::string& variant) {
  std::string lines;
  for (int i = 0; i < 16; ++i) lines += "{\"input\": \"Repeat: cat " + std::to_string(i) + "\", \"output\": \"cat " + std::to_string(i) + "\"}\n";
  write_file(dir.file("rows.jsonl"), lines);
  write_file(dir.file(name + ".json"),
             nlohmann::json{{"model_path", kBundled}, {"data_path", dir.file("rows.jsonl")}, {"max_input_length", 32}, {"max_output_length", 16},
                            {"peft", "lora"}, {"variant", variant}, {"lora_r", 4}, {"lora_alpha", 8}, {"num_epochs", 2}, {"batch_size", 8},
                            {"learning_rate", 2e-2}, {"gate_rank", 4}, {"output_dir", dir.file(name)}}
                 .dump());
  const Result r = imsm_run({"train", "--config", dir.file(name + ".json")});
  EXPECT_EQ(r.code, 0) << r.err;
  return dir.file(name + "/adapter");
}

}  // namespace

TEST(DiagnoseCli, GateAtEachAnswerTokenIsTheGateGenerationReported) {
  TempDir dir;
  const std::string adapter = train_adapter(dir, "imsm", "query");
  const Result gen = imsm_run({"generate", "--model", kBundled, "--adapter", adapter, "--prompt", "Repeat: cat 3", "--max-new-tokens", "6",
                               "--dtype", "f32", "--json"});
  ASSERT_EQ(gen.code, 0) << gen.err;
  const auto g = nlohmann::json::parse(gen.out);
  ASSERT_FALSE(g["ids"].empty());
  write_file(dir.file("own.jsonl"), nlohmann::json{{"input", "Repeat: cat 3"}, {"output", g["text"]}}.dump() + "\n");
  const Result d = imsm_run({"diagnose", "gate", "--adapter", adapter, "--data", dir.file("own.jsonl"), "--max-input-length", "32",
                             "--max-output-length", "16", "--json", "--tokens"});
  ASSERT_EQ(d.code, 0) << d.err;
  const auto j = nlohmann::json::parse(d.out);
  EXPECT_EQ(j["method"], "IMSM(LoRA)");
  ASSERT_EQ(j["rows"].size(), 1U);
  const auto& row = j["rows"][0];
  const auto q = row["query_len"].get<size_t>();
  const auto& ids = row["ids"];
  const auto& gate = row["gate"];
  ASSERT_EQ(gate.size() + 1, ids.size());
  ASSERT_EQ(row["kinds"].size(), ids.size());
  // The answer re-encoded from its text holds the generated tokens (an EOS appended where generation did not stop).
  ASSERT_GE(ids.size(), q + g["ids"].size());
  for (size_t k = 0; k < g["ids"].size(); ++k) {
    ASSERT_EQ(ids[q + k], g["ids"][k]) << k;
    // fp32 both ways, sums in other orders (a batch of one vs a KV cache): the gate's mean agrees to 1e-5.
    EXPECT_NEAR(gate[q - 1 + k].get<double>(), g["gate_mean"][k].get<double>(), 1e-5) << "answer token " << k;
  }
  // The tallies cover every predicted token once, and their token-weighted means are the overall mean.
  int64_t tokens = 0;
  double weighted = 0;
  for (const auto& k : j["kinds"]) {
    tokens += k["tokens"].get<int64_t>();
    weighted += k["tokens"].get<double>() * k["mean"].get<double>();
    EXPECT_TRUE(k["part"] == "prompt" || k["part"] == "answer");
  }
  EXPECT_EQ(tokens, j["tokens"].get<int64_t>());
  EXPECT_EQ(tokens, static_cast<int64_t>(gate.size()));
  EXPECT_NEAR(weighted / static_cast<double>(tokens), j["mean"].get<double>(), 1e-9);
  // The table for people names the parts and kinds.
  const Result table = imsm_run({"diagnose", "gate", "--adapter", adapter, "--data", dir.file("rows.jsonl")});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("answer"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("number"), std::string::npos) << table.out;

  const std::string lora = train_adapter(dir, "lora", "none");
  expect_bad({"diagnose", "gate", "--adapter", lora, "--data", dir.file("rows.jsonl")}, {"--adapter", "LoRA", "no IMSM gate"});
}
