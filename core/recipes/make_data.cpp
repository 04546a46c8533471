#include "recipes/make_data.h"

#include <nlohmann/json.hpp>

#include "data/arith.h"
#include "data/knowledge.h"
#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

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

int64_t make_data(const DataRequest& q) {
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

}  // namespace imsm
