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
  // With trace_top_k: this token's probability under each stream, each stream's entropy (nats) and
  // KL(original ‖ tuned) of the two memories' next-token distributions — where they disagree (-1: not measured).
  float p_original = -1, p_tuned = -1, p_mix = -1;
  float entropy_original = -1, entropy_tuned = -1, entropy_mix = -1;
  float kl_original_tuned = -1;
  bool steered = false;  // made with the gate clamped (GenerateRequest::clamp)
};

}  // namespace imsm
