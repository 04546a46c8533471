// The official IMSM metrics: hand-computed cases, and the public test splits
// (../shared/data/imsm-official) scored with predictions whose values are
// counted here independently from the raw files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "eval/metrics.h"
#include "io/json_file.h"
#include "test_util.h"

using imsm::testing::expect_bad_input;
using imsm::testing::TempDir;
using imsm::testing::write_file;

namespace {

TEST(Metrics, SquadNormalisation) {
  EXPECT_EQ(imsm::normalize_answer("The  Cat's hat!"), "cats hat");
  EXPECT_EQ(imsm::normalize_answer("An apple, a pear; THE end."), "apple pear end");
  EXPECT_EQ(imsm::normalize_answer("  theater  "), "theater");  // whole words only
}

// Non-ASCII answers as the official Python normalises them (str.lower(),
// str.split(); expectations printed by CPython 3.11's SQuAD normalize_answer):
// full case mapping (İ -> i + U+0307, final sigma), Unicode spaces (U+3000,
// U+00A0, U+2003, \x1c) split, U+200B (not a space) kept.
TEST(Metrics, UnicodeAnswersNormaliseAsPython) {
  EXPECT_EQ(imsm::normalize_answer("\xC3\x9Cn\xC3\xAF" "code  \xC3\x89" "COLE\xE3\x80\x80the Stra\xC3\x9F" "e"),
            "\xC3\xBCn\xC3\xAF" "code \xC3\xA9" "cole stra\xC3\x9F" "e");
  EXPECT_EQ(imsm::normalize_answer("\xC4\xB0stanbul\xC2\xA0" "AN\xE2\x80\x83\xCE\xA9mega"), "i\xCC\x87stanbul \xCF\x89mega");
  EXPECT_EQ(imsm::normalize_answer("\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3"),
            "\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x82");
  EXPECT_EQ(imsm::normalize_answer("zero\xE2\x80\x8Bwidth x\x1cy"), "zero\xE2\x80\x8Bwidth x y");
  EXPECT_EQ(imsm::exact_match("\xC3\x89" "COLE", {"\xC3\xA9" "cole"}), 1.0);  // was 0 with ASCII-only lower-casing
  EXPECT_EQ(imsm::yes_no_label("YES, it is"), 1);
  EXPECT_EQ(imsm::normalize_answer("bad \xFF byte"), "bad \xFF byte");  // not UTF-8: ASCII lower-casing, the byte kept
}

TEST(Metrics, EmContainAndF1BestOverGolds) {
  const std::vector<std::string> golds = {"Jamaican Creole English Language", "Jamaican English"};
  EXPECT_EQ(imsm::exact_match("jamaican english.", golds), 1.0);
  EXPECT_EQ(imsm::exact_match("They speak Jamaican English", golds), 0.0);
  EXPECT_EQ(imsm::contains_answer("They speak Jamaican English", golds), 1.0);
  EXPECT_EQ(imsm::contains_answer("English", golds), 0.0);
  // Token sets: {english, spoken} vs {jamaican, english}: P = 1/2, R = 1/2 -> F1 = 0.5.
  EXPECT_DOUBLE_EQ(imsm::f1_overlap("English spoken", golds), 0.5);
}

TEST(Metrics, YesNoF1AndMcc) {
  // tp = 2, fp = 1, fn = 1, tn = 1: F1 = 4/6, MCC = (2·1 − 1·1) / √(3·3·2·2) = 1/6.
  const std::vector<int> pred = {1, 1, 0, 0, 1}, gold = {1, 0, 0, 1, 1};
  EXPECT_NEAR(imsm::binary_f1(pred, gold), 4.0 / 6.0, 1e-12);
  EXPECT_NEAR(imsm::matthews_corrcoef(pred, gold), 1.0 / 6.0, 1e-12);
  EXPECT_EQ(imsm::matthews_corrcoef({1, 1, 1}, {1, 0, 1}), 0.0);  // undefined -> 0, as sklearn
  EXPECT_EQ(imsm::yes_no_label("Yes, they are."), 1);
  EXPECT_EQ(imsm::yes_no_label("no"), 0);
}

TEST(Metrics, Gsm8kExtraction) {
  EXPECT_EQ(imsm::gsm8k_extract("so 9 * 2 = 18\n#### 18"), "18");
  EXPECT_EQ(imsm::last_number("She makes 9 * 2 = $18 every day.\nThe answer is 18."), "18");
  EXPECT_EQ(imsm::last_number("costs 1,234.50 dollars"), "1234.5");
  EXPECT_EQ(imsm::last_number("a drop of -3 degrees"), "-3");
  EXPECT_EQ(imsm::last_number("none"), "");
  const auto s = imsm::score_task("gsm8k", {{"The answer is 18.", {"9 * 2 = 18\nThe answer is 18."}}, {"#### 17", {"The answer is 18."}}});
  EXPECT_DOUBLE_EQ(s.at("Accuracy"), 0.5);
}

std::vector<nlohmann::json> read_split(const std::string& task_dir) {
  std::ifstream in(std::string(IMSM_OFFICIAL_DATA) + "/" + task_dir + "/data_test.json");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Writes predictions {"input", "output", "answer"} with answer = f(record).
std::string predictions(const TempDir& dir, const std::vector<nlohmann::json>& split,
                        const std::function<std::string(const nlohmann::json&)>& answer) {
  std::ofstream out(dir.file("pred.jsonl"));
  for (const auto& r : split) out << nlohmann::json{{"input", r["input"]}, {"output", r["output"]}, {"answer", answer(r)}}.dump() << "\n";
  return dir.file("pred.jsonl");
}

TEST(Metrics, PublicSplitsGoldAnswersScorePerfectly) {
  TempDir dir;
  for (const auto& [task, folder] : std::vector<std::pair<std::string, std::string>>{
           {"webq", "webq"}, {"freebase", "freebase"}, {"ropes", "ropes"}, {"gsm8k", "GSM8K"}, {"cola", "cola"}}) {
    const auto split = read_split(folder);
    ASSERT_GT(split.size(), 300u) << folder;
    const auto scores = imsm::score_task(task, imsm::read_predictions(predictions(dir, split, [](const nlohmann::json& r) {
      return r["output"].is_array() ? r["output"][0].get<std::string>() : r["output"].get<std::string>();
    })));
    for (const auto& [metric, value] : scores) EXPECT_DOUBLE_EQ(value, 1.0) << task << " " << metric;
  }
}

TEST(Metrics, MrpcAlwaysYesMatchesCountsFromTheRawFile) {
  // Count yes golds in the raw text, independently of the JSON reader.
  std::ifstream raw(std::string(IMSM_OFFICIAL_DATA) + "/mrpc/data_test.json");
  double yes = 0, n = 0;
  for (std::string line; std::getline(raw, line);) {
    if (line.empty()) continue;
    ++n;
    yes += line.find("\"output\": \"yes\"") != std::string::npos;
  }
  ASSERT_EQ(n, 1725);
  TempDir dir;
  const auto scores = imsm::score_task("mrpc", imsm::read_predictions(predictions(dir, read_split("mrpc"), [](const nlohmann::json&) {
                                         return std::string("Yes.");
                                       })));
  EXPECT_NEAR(scores.at("EM"), yes / n, 1e-12);
  EXPECT_NEAR(scores.at("Contain"), yes / n, 1e-12);
  EXPECT_NEAR(scores.at("F1_score"), 2 * yes / (n + yes), 1e-12);  // tp = yes, fp = n − yes, fn = 0
  EXPECT_NEAR(scores.at("Accuracy"), yes / n, 1e-12);
  const auto cola = imsm::score_task("cola", imsm::read_predictions(predictions(dir, read_split("cola"), [](const nlohmann::json&) {
                                       return std::string("yes");
                                     })));
  EXPECT_EQ(cola.at("MCC"), 0.0);  // a constant prediction carries no correlation
}

TEST(Metrics, BadPredictionFilesNameTheLine) {
  TempDir dir;
  write_file(dir.file("p.jsonl"), "{\"input\": \"q\", \"output\": \"a\", \"answer\": \"a\"}\nnot json\n");
  expect_bad_input([&] { imsm::read_predictions(dir.file("p.jsonl")); }, {"p.jsonl:2:", "malformed JSON"});
  write_file(dir.file("p.jsonl"), "{\"input\": \"q\", \"output\": \"a\"}\n");
  expect_bad_input([&] { imsm::read_predictions(dir.file("p.jsonl")); }, {"p.jsonl:1", "missing key \"answer\""});
  write_file(dir.file("p.jsonl"), "{\"input\": \"q\", \"output\": [], \"answer\": \"a\"}\n");
  expect_bad_input([&] { imsm::read_predictions(dir.file("p.jsonl")); }, {"p.jsonl:1", "\"output\""});
  expect_bad_input([&] { imsm::official_metrics("squad"); }, {"unknown task \"squad\""});
}

}  // namespace
