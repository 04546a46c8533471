// One generated token as the memory-mixing views show it: its id and text,
// the IMSM gate that mixed the memories it came from, and (when asked) the
// most probable next tokens of each stream. Shared by generate and eval
// (torch-free).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

struct Candidate {
  int32_t id = 0;
  std::string piece;
  float prob = 0;
};

struct TokenTrace {
  int32_t id = 0;
  std::string piece;                 // the text this token adds (" the")
  float gate_mean = -1;              // -1 without an IMSM adapter (g weighs the original memory: 1 = original, 0 = fine-tuned)
  float gate_min = 0, gate_max = 0;  // over the hidden dimensions, when `gate` was kept
  std::vector<float> gate;           // [d] when the full gate was kept
  std::vector<Candidate> top_original, top_tuned, top_mixed;  // the distributions it was drawn from (generate's trace_top_k)
};

}  // namespace imsm
