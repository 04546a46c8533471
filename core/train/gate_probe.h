// The gate during training: the mean IMSM gate over the answer tokens of a
// fixed batch of probe examples, teacher-forced, without dropout and without
// drawing from any random generator (so training's random stream, and resume,
// stay exactly as without the probe). g weighs the original memory: a mean
// falling from ½ says the tuned stream is taking over.
#pragma once
#include <torch/torch.h>

#include "imsm/gate.h"
#include "model/llama.h"
#include "peft/peft_model.h"
#include "train/batch.h"

namespace imsm {

// batch: as collate() makes it; positions whose next token is an answer token count.
double probe_gate_mean(const LlamaModel& model, PeftAdapters& adapters, ImsmGate& gate, const TrainBatch& batch);

}  // namespace imsm
