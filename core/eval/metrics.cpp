#include "eval/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

namespace {
std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool is_yes_no_task(const std::string& task) { return task == "mrpc" || task == "multirc" || task == "cola"; }
}  // namespace

std::string normalize_answer(const std::string& text) {
  std::string s;
  for (const char c : lower(text))
    if (!std::ispunct(static_cast<unsigned char>(c))) s += c;  // string.punctuation: ASCII only
  std::string out;
  for (const auto& t : tokens(s)) {
    if (t == "a" || t == "an" || t == "the") continue;
    out += (out.empty() ? "" : " ") + t;
  }
  return out;
}

double exact_match(const std::string& prediction, const std::vector<std::string>& golds) {
  const std::string p = normalize_answer(prediction);
  for (const auto& g : golds)
    if (normalize_answer(g) == p) return 1.0;
  return 0.0;
}

double contains_answer(const std::string& prediction, const std::vector<std::string>& golds) {
  const std::string p = normalize_answer(prediction);
  for (const auto& g : golds)
    if (p.find(normalize_answer(g)) != std::string::npos) return 1.0;
  return 0.0;
}

double f1_overlap(const std::string& prediction, const std::vector<std::string>& golds) {
  const auto pt = tokens(normalize_answer(prediction));
  const std::set<std::string> p(pt.begin(), pt.end());
  double best = 0;
  for (const auto& g : golds) {
    const auto gt = tokens(normalize_answer(g));
    const std::set<std::string> gs(gt.begin(), gt.end());
    double common = 0;
    for (const auto& t : p) common += gs.count(t);
    if (common == 0 || p.empty() || gs.empty()) continue;
    const double precision = common / static_cast<double>(p.size()), recall = common / static_cast<double>(gs.size());
    best = std::max(best, 2 * precision * recall / (precision + recall));
  }
  return best;
}

int yes_no_label(const std::string& text) { return lower(text).find("yes") != std::string::npos ? 1 : 0; }

std::string gsm8k_extract(const std::string& text) {
  const auto at = text.rfind("####");
  if (at == std::string::npos) return text;
  std::string rest = text.substr(at + 4);
  const auto b = rest.find_first_not_of(" \t\n");
  return b == std::string::npos ? "" : rest.substr(b);
}

std::string last_number(const std::string& text) {
  std::string best;
  for (size_t i = 0; i < text.size();) {
    const bool sign = text[i] == '-' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (!std::isdigit(static_cast<unsigned char>(text[i])) && !sign) {
      ++i;
      continue;
    }
    std::string n(sign ? "-" : "");
    size_t j = i + (sign ? 1 : 0);
    for (; j < text.size(); ++j) {
      const char c = text[j];
      if (std::isdigit(static_cast<unsigned char>(c))) n += c;
      else if ((c == ',' || c == '.') && j + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[j + 1]))) n += c == '.' ? "." : "";
      else break;
    }
    if (n.find('.') != std::string::npos) {  // 18.00 -> 18, 2.50 -> 2.5
      while (n.back() == '0') n.pop_back();
      if (n.back() == '.') n.pop_back();
    }
    best = n;
    i = j;
  }
  return best;
}

double binary_f1(const std::vector<int>& pred, const std::vector<int>& gold) {
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    tp += pred[i] == 1 && gold[i] == 1;
    fp += pred[i] == 1 && gold[i] == 0;
    fn += pred[i] == 0 && gold[i] == 1;
  }
  return tp == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn);
}

double matthews_corrcoef(const std::vector<int>& pred, const std::vector<int>& gold) {
  double tp = 0, tn = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    tp += pred[i] == 1 && gold[i] == 1;
    tn += pred[i] == 0 && gold[i] == 0;
    fp += pred[i] == 1 && gold[i] == 0;
    fn += pred[i] == 0 && gold[i] == 1;
  }
  const double denom = std::sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return denom == 0 ? 0.0 : (tp * tn - fp * fn) / denom;  // sklearn: 0 when undefined
}

std::vector<std::string> official_metrics(const std::string& task) {
  if (task == "gsm8k") return {"EM", "Contain"};
  if (task == "mrpc" || task == "multirc") return {"Contain", "EM", "F1_score"};
  if (task == "cola") return {"MCC"};
  if (task == "ropes") return {"Contain", "EM", "F1_overlap"};
  if (task == "webq" || task == "freebase") return {"EM", "Contain"};
  throw_bad_input("--task", "unknown task \"" + task + "\" (gsm8k, mrpc, multirc, cola, ropes, webq, freebase)");
}

std::map<std::string, double> score_task(const std::string& task, const std::vector<ScoredExample>& examples) {
  const auto wanted = official_metrics(task);
  if (examples.empty()) throw_bad_input("predictions", "no examples to score");
  std::map<std::string, double> sums;
  std::vector<int> pred_labels, gold_labels;
  double strict = 0;
  for (const auto& e : examples) {
    std::string prediction = e.prediction;
    std::vector<std::string> golds = e.golds;
    if (task == "gsm8k") {
      prediction = gsm8k_extract(prediction);
      for (auto& g : golds) g = gsm8k_extract(g);
      const std::string p = last_number(e.prediction);
      strict += !p.empty() && p == last_number(e.golds.at(0));
    }
    sums["EM"] += exact_match(prediction, golds);
    sums["Contain"] += contains_answer(prediction, golds);
    sums["F1_overlap"] += f1_overlap(prediction, golds);
    pred_labels.push_back(yes_no_label(e.prediction));
    gold_labels.push_back(yes_no_label(e.golds.at(0)));
  }
  const double n = static_cast<double>(examples.size());
  std::map<std::string, double> all = {{"EM", sums["EM"] / n}, {"Contain", sums["Contain"] / n}, {"F1_overlap", sums["F1_overlap"] / n},
                                       {"F1_score", binary_f1(pred_labels, gold_labels)},
                                       {"MCC", matthews_corrcoef(pred_labels, gold_labels)}};
  std::map<std::string, double> out;
  for (const auto& m : wanted) out[m] = all[m];
  if (task == "gsm8k") out["Accuracy"] = strict / n;  // the final number equals the gold's
  if (is_yes_no_task(task)) {
    double correct = 0;
    for (size_t i = 0; i < pred_labels.size(); ++i) correct += pred_labels[i] == gold_labels[i];
    out["Accuracy"] = correct / n;
  }
  return out;
}

std::vector<ScoredExample> read_predictions(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot open predictions file");
  std::vector<ScoredExample> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = json::parse(line, path, n);
    const std::string where = path + ":" + std::to_string(n);
    if (!j.is_object()) throw_bad_input(where, "a line must be a JSON object {\"input\", \"output\", \"answer\"}");
    ScoredExample e;
    const auto& answer = json::require(j, "answer", where);
    if (!answer.is_string()) throw_bad_input(where, "field \"answer\" must be a string");
    e.prediction = answer.get<std::string>();
    const auto& gold = json::require(j, "output", where);
    if (gold.is_string()) e.golds.push_back(gold.get<std::string>());
    else if (gold.is_array() && !gold.empty()) {
      for (const auto& g : gold) {
        if (!g.is_string()) throw_bad_input(where, "field \"output\" must hold strings");
        e.golds.push_back(g.get<std::string>());
      }
    } else {
      throw_bad_input(where, "field \"output\" must be a string or a non-empty list of strings");
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) throw_bad_input(path, "no predictions in the file");
  return out;
}

}  // namespace imsm
