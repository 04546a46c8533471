#include "eval/suite.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "eval/metrics.h"
#include "io/json_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

Suite read_suite(const std::string& path) {
  const auto j = json::read_file(path);
  if (!j.is_object()) throw_bad_input(path, "a suite must be a JSON object with \"benchmarks\"");
  for (const auto& [key, value] : j.items())
    if (key != "name" && key != "batch_size" && key != "benchmarks") throw_bad_input(path, "unknown key \"" + key + "\"");
  Suite s;
  s.name = json::get_string_or(j, "name", fs::path(path).stem().string(), path);
  s.batch_size = json::get_int_or(j, "batch_size", s.batch_size, path);
  if (s.batch_size <= 0) throw_bad_input(path, "key \"batch_size\" must be positive");
  const auto& list = json::require(j, "benchmarks", path);
  if (!list.is_array() || list.empty()) throw_bad_input(path, "key \"benchmarks\" must be a non-empty list");
  const fs::path base = fs::absolute(path).parent_path();
  static const std::set<std::string> known = {"name", "dataset", "task", "metric", "max_new_tokens", "max_input_length", "limit"};
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& b = list[i];
    const std::string where = path + ": benchmarks[" + std::to_string(i) + "]";
    if (!b.is_object()) throw_bad_input(where, "must be an object");
    for (const auto& [key, value] : b.items())
      if (!known.count(key)) throw_bad_input(where, "unknown key \"" + key + "\"");
    Benchmark m;
    m.task = json::get_string(b, "task", where);
    std::vector<std::string> metrics;
    try {
      metrics = official_metrics(m.task);
    } catch (const Error&) {
      throw_bad_input(where, "unknown task \"" + m.task + "\" (gsm8k, mrpc, multirc, cola, ropes, webq, freebase)");
    }
    const std::string dataset = json::get_string(b, "dataset", where);
    m.dataset = (fs::path(dataset).is_absolute() ? fs::path(dataset) : base / dataset).lexically_normal().string();
    if (!fs::is_regular_file(m.dataset)) throw_bad_input(where, "dataset " + m.dataset + " does not exist");
    m.name = json::get_string_or(b, "name", fs::path(m.dataset).stem().string(), where);
    if (!names.insert(m.name).second) throw_bad_input(where, "benchmark name \"" + m.name + "\" is used twice");
    m.metric = json::get_string_or(b, "metric", metrics.front(), where);
    if (m.metric != "Accuracy" && m.metric != "Perplexity" && std::find(metrics.begin(), metrics.end(), m.metric) == metrics.end()) {
      std::string allowed;
      for (const auto& x : metrics) allowed += x + ", ";
      throw_bad_input(where, "metric \"" + m.metric + "\" is not one of " + allowed + "Accuracy, Perplexity");
    }
    if (m.metric == "Accuracy" && m.task != "gsm8k" && m.task != "mrpc" && m.task != "multirc" && m.task != "cola")
      throw_bad_input(where, "metric Accuracy is defined for gsm8k and the yes/no tasks only");
    m.max_new_tokens = json::get_int_or(b, "max_new_tokens", m.max_new_tokens, where);
    m.max_input_length = json::get_int_or(b, "max_input_length", m.max_input_length, where);
    m.limit = json::get_int_or(b, "limit", m.limit, where);
    if (m.max_new_tokens <= 0 || m.max_input_length <= 0 || m.limit < 0)
      throw_bad_input(where, "max_new_tokens and max_input_length must be positive, limit non-negative");
    s.benchmarks.push_back(std::move(m));
  }
  return s;
}

double suite_average(const Suite& suite, const std::vector<double>& scores) {
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < suite.benchmarks.size() && i < scores.size(); ++i)
    if (suite.benchmarks[i].metric != "Perplexity") sum += scores[i], ++n;
  return n ? sum / n : std::nan("");
}

Table forgetting_table(const Suite& suite, const SubjectScores& base, const std::vector<SubjectScores>& subjects) {
  Table t;
  t.header = {"benchmark", "metric", base.label};
  for (const auto& s : subjects) t.header.push_back(s.label);
  auto cell = [](double score, double before) { return format_fixed(score, 4) + " (" + format_change(score - before, 4) + ")"; };
  for (size_t i = 0; i < suite.benchmarks.size(); ++i) {
    std::vector<std::string> row = {suite.benchmarks[i].name, suite.benchmarks[i].metric, format_fixed(base.scores.at(i), 4)};
    for (const auto& s : subjects) row.push_back(cell(s.scores.at(i), base.scores.at(i)));
    t.rows.push_back(std::move(row));
  }
  const double base_avg = suite_average(suite, base.scores);
  std::vector<std::string> avg = {"average", "", format_fixed(base_avg, 4)};
  for (const auto& s : subjects) avg.push_back(cell(suite_average(suite, s.scores), base_avg));
  t.rows.push_back(std::move(avg));
  return t;
}

}  // namespace imsm
