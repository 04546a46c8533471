#include "recipes/make_data.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "data/arith.h"
#include "data/knowledge.h"
#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

namespace fs = std::filesystem;

namespace {
std::string json_lines(const std::vector<data::Record>& records) {
  std::string out;
  for (const auto& r : records) {
    const nlohmann::json gold = r.output.size() == 1 ? nlohmann::json(r.output.front()) : nlohmann::json(r.output);
    out += nlohmann::json{{"input", r.input}, {"output", gold}}.dump() + "\n";
  }
  return out;
}
}  // namespace

// Records [offset, offset + limit) of a JSON-lines file, each checked: an
// object with a string "input" and an "output" that is a string or a list
// of strings (the official format; several golds for WebQ and FreebaseQA).
int64_t copy_slice(const DataRequest& q) {
  std::ifstream in(q.file, std::ios::binary);
  if (!in) throw_bad_input(q.file, "cannot open the dataset file: check the path (relative to the project file)");
  if (q.offset < 0 || q.limit < -1 || q.limit == 0) throw_bad_input(q.file, "offset must be >= 0 and limit positive (or absent)");
  std::string line, text;
  int64_t record = 0, written = 0;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = q.file + ":" + std::to_string(n);
    const auto j = json::parse(line, q.file, n);
    if (!j.is_object() || !j.contains("input") || !j["input"].is_string())
      throw_bad_input(where, "a record must be an object with a string \"input\"");
    const auto& out = j.contains("output") ? j["output"] : nlohmann::json();
    const bool golds = out.is_array() && !out.empty() && std::all_of(out.begin(), out.end(), [](const auto& g) { return g.is_string(); });
    if (!out.is_string() && !golds) throw_bad_input(where, "\"output\" must be a string or a list of strings");
    if (record++ < q.offset) continue;
    if (q.limit >= 0 && written >= q.limit) break;
    text += j.dump() + "\n";
    ++written;
  }
  if (written == 0) throw_bad_input(q.file, "holds " + std::to_string(record) + " records: none from offset " + std::to_string(q.offset));
  json::write_text_atomically(q.out, text);
  return written;
}

int64_t make_data(const DataRequest& q) {
  if (!q.file.empty()) return copy_slice(q);
  if (q.count <= 0) throw_bad_input("--count", "must be positive");
  std::string text;
  int64_t written = 0;
  if (q.task == "arith") {
    data::ArithOptions o;
    o.count = q.count;
    o.seed = q.seed;
    o.max_steps = q.max_steps;
    o.max_operand = q.max_operand;
    if (o.max_steps < 1 || o.max_steps > 3 || o.max_operand < 2) throw_bad_input("arith", "max_steps must be 1..3 and max_operand at least 2");
    const auto records = data::arith_problems(o);
    text = json_lines(records);
    written = static_cast<int64_t>(records.size());
  } else if (q.task == "wordnet-qa" || q.task == "wordnet-cloze" || q.task == "wordnet-yesno" || q.task == "wordnet-yesno-context" ||
             q.task == "wordnet-corpus") {
    const auto wn = data::WordNet::load(q.wordnet);
    data::KnowledgeOptions o;
    o.concepts = q.concepts;
    o.seed = q.seed;
    const auto facts = data::wordnet_facts(wn, o);
    if (q.task == "wordnet-corpus") {
      for (const auto& doc : data::knowledge_corpus(facts, q.seed)) {
        text += nlohmann::json{{"text", doc}}.dump() + "\n";
        ++written;
      }
    } else {
      const auto records = q.task == "wordnet-qa"      ? data::wordnet_qa(facts, q.count, q.seed)
                           : q.task == "wordnet-cloze" ? data::wordnet_cloze(facts, q.count, q.seed)
                                                       : data::wordnet_yesno(facts, q.count, q.seed, q.task == "wordnet-yesno-context");
      text = json_lines(records);
      written = static_cast<int64_t>(records.size());
    }
  } else {
    throw_bad_input("--task", "\"" + q.task + "\" is not one of arith, wordnet-qa, wordnet-cloze, wordnet-yesno, wordnet-yesno-context, wordnet-corpus");
  }
  json::write_text_atomically(q.out, text);
  return written;
}

void make_project_inputs(const ProjectPlan& plan, bool missing_only, const Hooks& hooks) {
  auto wanted = [&](const std::string& file) { return !missing_only || !fs::is_regular_file(file); };
  std::error_code error;
  if (!fs::create_directories(plan.output_dir + "/data", error) && error)
    throw_bad_input(plan.output_dir + "/data", "cannot make the project's data folder (" + error.message() + "): check output_dir");
  int64_t made = 0;
  for (const auto& [key, request] : plan.data) {
    hooks.progress({"data", made++, static_cast<int64_t>(plan.data.size()), key, 0});
    if (wanted(request.out)) make_data(request);
  }
  if (wanted(plan.suite_file)) json::write_file(plan.suite_file, plan.suite);
}

}  // namespace imsm
