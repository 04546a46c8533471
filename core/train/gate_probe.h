// The gate during training: the mean IMSM gate over the answer tokens of a
// fixed batch of probe examples, teacher-forced, without dropout and without
// drawing from any random generator (so training's random stream, and resume,
// stay exactly as without the probe). g weighs the original memory: a mean
// falling from ½ says the tuned stream is taking over; per hidden dimension,
// which dimensions do.
#pragma once
#include <torch/torch.h>

#include <vector>

#include "imsm/gate.h"
#include "model/llama.h"
#include "peft/peft_model.h"
#include "train/batch.h"

namespace imsm {

struct GateProbe {
  double mean = -1;             // over the answer positions and the hidden dimensions; < 0: nothing to probe
  std::vector<float> per_dim;   // [D]: each hidden dimension's mean over the answer positions (the gate scope's waterfall)
};

// batch: as collate() makes it; positions whose next token is an answer token count.
GateProbe probe_gate(const LlamaModel& model, PeftAdapters& adapters, ImsmGate& gate, const TrainBatch& batch);

}  // namespace imsm
