// Recipe: the bundled datasets as JSON lines in the official {"input",
// "output"} format — arith (the target task), wordnet-qa and wordnet-yesno
// (knowledge probes), wordnet-corpus ({"text"} documents for pretraining).
// Deterministic for a seed. Or a slice of a user's JSON-lines file (the
// paper's official splits, one's own data), checked line by line and copied.
// Torch-free.
#pragma once
#include <cstdint>
#include <string>

namespace imsm {

struct DataRequest {
  std::string task;                            // arith | wordnet-qa | wordnet-cloze | wordnet-yesno | wordnet-yesno-context | wordnet-corpus
  std::string file;                            // instead of a task: a JSON-lines file of {"input", "output"} records
  int64_t offset = 0;                          // file: records skipped first (blank lines are not records)
  int64_t limit = -1;                          // file: records kept after them (-1: all)
  std::string out;                             // JSON lines file, written atomically
  int64_t count = 1000;                        // records (the corpus: every document)
  uint64_t seed = 1;
  std::string wordnet = "/usr/share/wordnet";  // WordNet database folder
  int64_t concepts = 1500;                     // nouns the knowledge is drawn from
  int64_t max_steps = 3, max_operand = 20;     // arith: operations per problem (1..3), largest number drawn
};

// Returns the number of records written.
int64_t make_data(const DataRequest& request);

}  // namespace imsm
