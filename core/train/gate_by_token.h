// IMSM's gate at every position of a task's rows, teacher-forced: where the
// mix leans on the original memory (g → 1) or the tuned one (g → 0) while
// the model reads a prompt and writes an answer (issue 36's gate summary).
#pragma once
#include <cstdint>
#include <vector>

#include "imsm/gate.h"
#include "model/llama.h"
#include "train/dataset.h"
#include "util/run_protocol.h"

namespace imsm {

// Per row: the gate's mean over the hidden dimensions at positions
// 0 .. len − 2, [len − 1]: position t's gate mixes the memory that predicts
// token t + 1, the same value generation reports for a token it chose
// (GenerateOutput::gate_mean). No autograd; batches of `batch_size` padded
// rows; progress "gate" (rows done of total); cancel between batches.
std::vector<std::vector<float>> gate_by_token(const LlamaModel& model, const ImsmGate& gate, const std::vector<EncodedExample>& data,
                                              int64_t batch_size, const Hooks& hooks = {});

}  // namespace imsm
