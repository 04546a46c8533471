// What data to make: a bundled dataset (arith, the WordNet probes and corpus)
// or a slice of a user's JSON-lines file, and where to write it
// (recipes/make_data.h makes it; a project plan holds one per data key).
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

}  // namespace imsm
