#include "train/dataset.h"

#include <sstream>

#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace imsm {

namespace {
std::string text_field(const nlohmann::json& record, const std::string& key, const std::string& where, bool required) {
  if (!record.contains(key) || record[key].is_null()) {
    if (required) throw_bad_input(where, "missing field \"" + key + "\"");
    return "";
  }
  const auto& v = record[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array() && !v.empty() && v[0].is_string()) return v[0].get<std::string>();  // list of golds: the first
  if (v.is_number()) return v.dump();
  throw_bad_input(where, "field \"" + key + "\" must be a string (or a list of strings)");
}

Example to_example(const nlohmann::json& record, const DatasetFields& f, const std::string& where) {
  if (!record.is_object()) throw_bad_input(where, "a record must be a JSON object");
  Example e;
  if (record.contains(f.instruction)) {  // Alpaca: instruction, optional input
    e.prompt = text_field(record, f.instruction, where, true);
    const std::string input = text_field(record, f.input, where, false);
    if (!input.empty()) e.prompt += "\n" + input;
  } else {
    e.prompt = text_field(record, f.input, where, true);
  }
  e.answer = text_field(record, f.output, where, true);
  return e;
}
}  // namespace

std::vector<Example> read_examples(const std::string& path, const DatasetFields& fields) {
  const std::string text = json::read_text_file(path, "dataset file");
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) throw_bad_input(path, "the dataset is empty");
  std::vector<Example> out;
  if (text[first] == '[') {  // one JSON array
    const auto j = json::parse(text, path);
    for (size_t i = 0; i < j.size(); ++i) out.push_back(to_example(j[i], fields, path + ": record " + std::to_string(i + 1)));
  } else {  // JSON lines
    std::istringstream lines(text);
    std::string line;
    for (size_t n = 1; std::getline(lines, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      out.push_back(to_example(json::parse(line, path, n), fields, path + ":" + std::to_string(n)));
    }
  }
  if (out.empty()) throw_bad_input(path, "the dataset holds no records");
  return out;
}

EncodedExample encode_example(const Tokenizer& tokenizer, const Example& e, int64_t max_in, int64_t max_out, int32_t eos) {
  if (eos < 0) throw_bad_input("tokenizer", "no EOS token: set eos_token in tokenizer_config.json");
  EncodedExample out;
  std::vector<int32_t> prompt = tokenizer.encode(e.prompt, true);
  if (static_cast<int64_t>(prompt.size()) > max_in) prompt.resize(static_cast<size_t>(max_in));
  std::vector<int32_t> answer = tokenizer.encode(e.answer, false);
  if (static_cast<int64_t>(answer.size()) > max_out - 1) answer.resize(static_cast<size_t>(std::max<int64_t>(0, max_out - 1)));
  answer.push_back(eos);
  out.query_len = static_cast<int64_t>(prompt.size());
  out.ids = prompt;
  out.ids.insert(out.ids.end(), answer.begin(), answer.end());
  out.labels.assign(prompt.size(), -100);
  out.labels.insert(out.labels.end(), answer.begin(), answer.end());
  return out;
}

}  // namespace imsm
