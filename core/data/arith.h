// arith: arithmetic word problems in the GSM8K style — one to three steps over
// small numbers, varied templates, a worked solution whose last line is
// "#### N" — the target task the bundled base model cannot do. Deterministic
// for a seed. Torch-free.
#pragma once
#include <cstdint>
#include <vector>

#include "data/knowledge.h"

namespace imsm::data {

struct ArithOptions {
  int64_t count = 1000;
  uint64_t seed = 1;
  int64_t max_steps = 3;   // 1..3
  int64_t max_operand = 20;
};

// Records {input: the problem in the probe's prompt style, output: [solution]}.
std::vector<Record> arith_problems(const ArithOptions& options);

// The prompt around a problem (shared by the generator and the tests).
std::string arith_prompt(const std::string& problem);

}  // namespace imsm::data
