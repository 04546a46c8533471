// The metrics of the official IMSM evaluation (torch-free): SQuAD-style
// normalisation, EM and Contain (best over a list of golds), F1 over token
// sets, yes/no F1 and MCC, GSM8K's "####" extraction; the task -> metrics
// dispatch; and stricter companions (GSM8K final-number accuracy, yes/no accuracy).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace imsm {

// SQuAD's normalisation as the official Python runs it: lower case (Unicode,
// as str.lower()), ASCII punctuation removed (string.punctuation), articles
// a/an/the removed, split on Unicode whitespace (as str.split()) and joined by
// one space.
std::string normalize_answer(const std::string& text);

double exact_match(const std::string& prediction, const std::vector<std::string>& golds);   // 0 or 1
double contains_answer(const std::string& prediction, const std::vector<std::string>& golds);  // 0 or 1
double f1_overlap(const std::string& prediction, const std::vector<std::string>& golds);    // best F1 of token sets
int yes_no_label(const std::string& text);        // 1 iff "yes" occurs in the lower-cased text
std::string gsm8k_extract(const std::string& text);  // text after the last "####", else the text
// The last number in the text ("1,234.50" -> "1234.5"), or "" when none.
std::string last_number(const std::string& text);

struct ScoredExample {
  std::string prediction;
  std::vector<std::string> golds;
};

// Binary F1 of the positive class and Matthews correlation (0 when undefined).
double binary_f1(const std::vector<int>& predicted, const std::vector<int>& gold);
double matthews_corrcoef(const std::vector<int>& predicted, const std::vector<int>& gold);

// One example's share of every metric of its task (score_task tallies these;
// the significance tests resample them).
struct ItemScore {
  double em = 0, contain = 0, f1_overlap = 0;  // 0 or 1, 0 or 1, [0, 1]
  double accuracy = 0;  // gsm8k: the final number equals the gold's; yes/no tasks: the label does; else 0
  int predicted = 0, gold = 0;  // yes/no labels (F1_score, MCC)
};
ItemScore score_item(const std::string& task, const ScoredExample& example);

// The metrics MetricTally computes from items: EM, Contain, F1_overlap,
// Accuracy, F1_score, MCC (not Perplexity, which needs the model).
bool is_item_metric(const std::string& metric);

// The metrics over items, each counted `weight` times (a bootstrap resample
// counts an item as often as it drew it).
class MetricTally {
 public:
  void add(const ItemScore& item, double weight = 1);
  // EM, Contain, F1_overlap, Accuracy (means over the items), F1_score, MCC
  // (from the yes/no confusion counts); BadInput for another name.
  double value(const std::string& metric) const;

 private:
  double n_ = 0, em_ = 0, contain_ = 0, f1_overlap_ = 0, accuracy_ = 0;
  double tp_ = 0, tn_ = 0, fp_ = 0, fn_ = 0;
};

// The official metrics of a task (gsm8k, mrpc, multirc, cola, ropes, webq,
// freebase) plus the stricter ones ("Accuracy"), by name. BadInput for an
// unknown task.
std::map<std::string, double> score_task(const std::string& task, const std::vector<ScoredExample>& examples);
std::vector<std::string> official_metrics(const std::string& task);  // in the official order
// The tasks the official code scores: gsm8k, mrpc, multirc, cola, ropes, webq, freebase.
const std::vector<std::string>& official_tasks();
// What score_task reports for the task: official_metrics, then Accuracy where it is defined (gsm8k, the yes/no tasks).
std::vector<std::string> reported_metrics(const std::string& task);

// Reads a predictions file in the official format: lines {"input", "output" (gold:
// a string or a list), "answer" (the model's)}. BadInput naming FILE:LINE.
std::vector<ScoredExample> read_predictions(const std::string& path);

}  // namespace imsm
