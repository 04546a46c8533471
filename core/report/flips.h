// The examples whose correctness changed between two evaluations: for two
// configurations (or a run and its base model), per benchmark both
// evaluated with a right/wrong metric (EM, Contain, Accuracy), each example
// the one got right and the other wrong — what a forgetting number is made
// of. From the predictions the workspace keeps. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "store/workspace.h"

namespace imsm::report {

struct Flip {
  std::string benchmark, metric;
  int64_t example_index = 0;        // its index in the benchmark (the inspector opens it by this)
  std::string input;
  std::vector<std::string> golds;
  std::string answer_a, answer_b;
  bool gained = false;              // right with b, wrong with a (b learned it); else lost (b forgot it)
};

struct FlipList {
  int64_t run_a = 0, run_b = 0;
  std::vector<Flip> flips;          // by benchmark (in a's order), then example
  int64_t compared = 0;             // examples compared (both runs answered them)
  int64_t gained = 0, lost = 0;
  std::vector<std::string> skipped; // "BENCHMARK: why" for a benchmark left out
};

// Run b against run a (two finished evaluation runs): what b gets right that
// a got wrong (gained) and the reverse (lost). A benchmark's metric: the
// first right/wrong metric a recorded for it. BadInput naming the run when
// either is not a finished evaluation.
FlipList flipped_items(const store::Workspace& ws, int64_t run_a, int64_t run_b);

}  // namespace imsm::report
