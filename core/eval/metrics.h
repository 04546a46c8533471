// The metrics of the official IMSM evaluation (torch-free): SQuAD-style
// normalisation, EM and Contain (best over a list of golds), F1 over token
// sets, yes/no F1 and MCC, GSM8K's "####" extraction; the task -> metrics
// dispatch; and stricter companions (GSM8K final-number accuracy, yes/no accuracy).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace imsm {

// Lower case, ASCII punctuation removed, articles a/an/the removed, whitespace collapsed.
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

// The official metrics of a task (gsm8k, mrpc, multirc, cola, ropes, webq,
// freebase) plus the stricter ones ("Accuracy"), by name. BadInput for an
// unknown task.
std::map<std::string, double> score_task(const std::string& task, const std::vector<ScoredExample>& examples);
std::vector<std::string> official_metrics(const std::string& task);  // in the official order

// Reads a predictions file in the official format: lines {"input", "output" (gold:
// a string or a list), "answer" (the model's)}. BadInput naming FILE:LINE.
std::vector<ScoredExample> read_predictions(const std::string& path);

}  // namespace imsm
