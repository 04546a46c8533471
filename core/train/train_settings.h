// The training loop's choices as types, each with its names declared once
// (util/choices.h): the optimizer, the learning-rate schedule and activation
// checkpointing. Torch-free: the configuration reads them, the trainer and
// the memory estimate switch on them.
#pragma once
#include "util/choices.h"

namespace imsm {

enum class OptimizerKind { AdamW, Adafactor };
enum class LrSchedule { Cosine, Linear, None };
enum class Checkpointing { Auto, On, Off };  // recompute each decoder layer in the backward (auto: on CUDA)

const Choices<OptimizerKind>& optimizer_kinds();   // adamw, adafactor
const Choices<LrSchedule>& lr_schedules();         // cosine, linear, none (the official configs' "None" read as none)
const Choices<Checkpointing>& checkpointing_modes();  // auto, on, off

// Whether layers are recomputed, on a CUDA device or not.
bool checkpoints_layers(Checkpointing mode, bool on_cuda);

}  // namespace imsm
