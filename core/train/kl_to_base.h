// How far a tuning moved the model on its own task's rows ("RL's Razor",
// Shenfeld et al., 2025: this forward KL on the new task's data predicts how
// much a tuning forgets):
//   KL(p_base ‖ p_tuned) = Σ_v p_base(v) (log p_base(v) − log p_tuned(v))
// at each answer token of each row (the prompt and the answer so far as
// context), p_tuned read from the memory the tuned model predicts from (the
// IMSM mix with a gate, the adapter alone without), p_base from the base.
#pragma once
#include <cstdint>
#include <vector>

#include "imsm/gate.h"
#include "model/llama.h"
#include "train/dataset.h"
#include "util/run_protocol.h"

namespace imsm {

struct KlToBase {
  double mean = 0;       // nats per answer token, over all answer tokens
  double std_error = 0;  // of the examples' own means: their spread / √examples
  int64_t tokens = 0;
  int64_t examples = 0;  // with at least one answer token
};

// No autograd, batches of `batch_size` padded rows; the model in eval mode
// (no dropout). Progress "kl" (examples done of total); cancel between batches.
KlToBase kl_to_base(const LlamaModel& model, const ImsmGate* gate, const std::vector<EncodedExample>& data, int64_t batch_size,
                    const Hooks& hooks = {});

}  // namespace imsm
