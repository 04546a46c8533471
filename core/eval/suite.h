// A benchmark suite for measuring forgetting: the sets, each with its task,
// headline metric, lengths and an optional sample limit; and the table of
// scores before (base model) and after (each tuned model) with the change,
// laid out as the paper's Tables 2 and 3. Torch-free.
//
// Suite file (JSON; dataset paths relative to the file):
// {"name": "general", "batch_size": 8,
//  "benchmarks": [{"name": "GSM8K", "dataset": "gsm8k/test.jsonl", "task": "gsm8k",
//                  "metric": "EM", "max_new_tokens": 256, "max_input_length": 512, "limit": 200}]}
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "util/table.h"

namespace imsm {

struct Benchmark {
  std::string name;                // the column/row label
  std::string dataset;             // absolute path
  std::string task;                // official task name (metric dispatch)
  std::string metric;              // the headline metric (one of the task's, Accuracy or Perplexity)
  int64_t max_new_tokens = 64;
  int64_t max_input_length = 512;
  int64_t limit = 0;               // 0 = every example
};

struct Suite {
  std::string name;
  int64_t batch_size = 8;
  std::vector<Benchmark> benchmarks;
};

// Every key checked; BadInput naming the file and the key (or the benchmark).
Suite read_suite(const std::string& path);

struct SubjectScores {
  std::string label;            // "base", or the adapter's name
  std::vector<double> scores;   // one per benchmark, in suite order
};

// Rows: benchmarks (name, metric) then "average"; columns: the base model's
// score, then per subject "score (change)". Perplexity is lower-is-better and
// is left out of the average (it is not on the same scale).
Table forgetting_table(const Suite& suite, const SubjectScores& base, const std::vector<SubjectScores>& subjects);
// The average of the scores that enter the table's average row.
double suite_average(const Suite& suite, const std::vector<double>& scores);

}  // namespace imsm
