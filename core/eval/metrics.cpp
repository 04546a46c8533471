#include "eval/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

namespace {

// Python's str.isspace() for one code point: general category Zs, or
// bidirectional class WS, B or S (which holds \t \n \v \f \r and \x1c-\x1f).
bool python_space(UChar32 c) {
  const UCharDirection d = u_charDirection(c);
  return u_charType(c) == U_SPACE_SEPARATOR || d == U_WHITE_SPACE_NEUTRAL || d == U_BLOCK_SEPARATOR || d == U_SEGMENT_SEPARATOR;
}

// Python's str.split(): runs of non-space code points (text: UTF-8; a byte that
// does not decode counts as a non-space character of its own).
std::vector<std::string> tokens(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t n = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < n;) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, n, c);
    if (c >= 0 && python_space(c)) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current.append(text, static_cast<size_t>(start), static_cast<size_t>(i - start));
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

// Python's str.lower(): full Unicode lower-casing (ICU's root locale: "İ" -> "i̇",
// a final "Σ" -> "ς"); ASCII-only when the text is not valid UTF-8.
std::string lower(const std::string& s) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t length = 0;
  u_strFromUTF8(nullptr, 0, &length, s.data(), static_cast<int32_t>(s.size()), &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) {
    std::string ascii = s;
    for (auto& c : ascii) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ascii;
  }
  std::u16string utf16(static_cast<size_t>(length), u'\0');
  status = U_ZERO_ERROR;
  u_strFromUTF8(reinterpret_cast<UChar*>(utf16.data()), length, nullptr, s.data(), static_cast<int32_t>(s.size()), &status);
  std::u16string lowered(utf16.size() * 3 + 1, u'\0');  // full case mapping grows a string at most threefold
  status = U_ZERO_ERROR;
  const int32_t lowered_length = u_strToLower(reinterpret_cast<UChar*>(lowered.data()), static_cast<int32_t>(lowered.size()),
                                              reinterpret_cast<const UChar*>(utf16.data()), length, "", &status);
  std::string out(static_cast<size_t>(lowered_length) * 3, '\0');
  int32_t out_length = 0;
  status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &out_length, reinterpret_cast<const UChar*>(lowered.data()), lowered_length, &status);
  out.resize(static_cast<size_t>(out_length));
  return out;
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

namespace {

double f1_of(double tp, double fp, double fn) { return tp == 0 ? 0.0 : 2 * tp / (2 * tp + fp + fn); }

double mcc_of(double tp, double tn, double fp, double fn) {
  const double denom = std::sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  return denom == 0 ? 0.0 : (tp * tn - fp * fn) / denom;  // sklearn: 0 when undefined
}

}  // namespace

double binary_f1(const std::vector<int>& pred, const std::vector<int>& gold) {
  MetricTally t;
  for (size_t i = 0; i < pred.size(); ++i) t.add({0, 0, 0, 0, pred[i], gold[i]});
  return t.value("F1_score");
}

double matthews_corrcoef(const std::vector<int>& pred, const std::vector<int>& gold) {
  MetricTally t;
  for (size_t i = 0; i < pred.size(); ++i) t.add({0, 0, 0, 0, pred[i], gold[i]});
  return t.value("MCC");
}

ItemScore score_item(const std::string& task, const ScoredExample& e) {
  std::string prediction = e.prediction;
  std::vector<std::string> golds = e.golds;
  ItemScore s;
  if (task == "gsm8k") {
    prediction = gsm8k_extract(prediction);
    for (auto& g : golds) g = gsm8k_extract(g);
    const std::string p = last_number(e.prediction);
    s.accuracy = !p.empty() && p == last_number(e.golds.at(0));
  }
  s.em = exact_match(prediction, golds);
  s.contain = contains_answer(prediction, golds);
  s.f1_overlap = f1_overlap(prediction, golds);
  s.predicted = yes_no_label(e.prediction);
  s.gold = yes_no_label(e.golds.at(0));
  if (is_yes_no_task(task)) s.accuracy = s.predicted == s.gold;
  return s;
}

void MetricTally::add(const ItemScore& item, double weight) {
  n_ += weight;
  em_ += weight * item.em;
  contain_ += weight * item.contain;
  f1_overlap_ += weight * item.f1_overlap;
  accuracy_ += weight * item.accuracy;
  tp_ += weight * (item.predicted == 1 && item.gold == 1);
  tn_ += weight * (item.predicted == 0 && item.gold == 0);
  fp_ += weight * (item.predicted == 1 && item.gold == 0);
  fn_ += weight * (item.predicted == 0 && item.gold == 1);
}

bool is_item_metric(const std::string& metric) {
  for (const char* m : {"EM", "Contain", "F1_overlap", "Accuracy", "F1_score", "MCC"})
    if (metric == m) return true;
  return false;
}

double MetricTally::value(const std::string& metric) const {
  if (metric == "EM") return em_ / n_;
  if (metric == "Contain") return contain_ / n_;
  if (metric == "F1_overlap") return f1_overlap_ / n_;
  if (metric == "Accuracy") return accuracy_ / n_;
  if (metric == "F1_score") return f1_of(tp_, fp_, fn_);
  if (metric == "MCC") return mcc_of(tp_, tn_, fp_, fn_);
  throw_bad_input("metric", "\"" + metric + "\" is not a metric of items (EM, Contain, F1_overlap, Accuracy, F1_score, MCC)");
}

const std::vector<std::string>& official_tasks() {
  static const std::vector<std::string> tasks = {"gsm8k", "mrpc", "multirc", "cola", "ropes", "webq", "freebase"};
  return tasks;
}

std::vector<std::string> official_metrics(const std::string& task) {
  if (task == "gsm8k") return {"EM", "Contain"};
  if (task == "mrpc" || task == "multirc") return {"Contain", "EM", "F1_score"};
  if (task == "cola") return {"MCC"};
  if (task == "ropes") return {"Contain", "EM", "F1_overlap"};
  if (task == "webq" || task == "freebase") return {"EM", "Contain"};
  std::string known;
  for (const std::string& t : official_tasks()) known += (known.empty() ? "" : ", ") + t;
  throw_bad_input("--task", "unknown task \"" + task + "\" (" + known + ")");
}

std::vector<std::string> reported_metrics(const std::string& task) {
  std::vector<std::string> out = official_metrics(task);
  if (task == "gsm8k" || is_yes_no_task(task)) out.push_back("Accuracy");
  return out;
}

std::map<std::string, double> score_task(const std::string& task, const std::vector<ScoredExample>& examples) {
  const auto wanted = reported_metrics(task);  // Accuracy: the stricter companion
  if (examples.empty()) throw_bad_input("predictions", "no examples to score");
  MetricTally tally;
  for (const auto& e : examples) tally.add(score_item(task, e));
  std::map<std::string, double> out;
  for (const auto& m : wanted) out[m] = tally.value(m);
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
