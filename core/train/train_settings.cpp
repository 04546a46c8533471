#include "train/train_settings.h"

namespace imsm {

const Choices<OptimizerKind>& optimizer_kinds() {
  static const Choices<OptimizerKind> c = {{"adamw", OptimizerKind::AdamW}, {"adafactor", OptimizerKind::Adafactor}};
  return c;
}

const Choices<LrSchedule>& lr_schedules() {
  static const Choices<LrSchedule> c = {
      {"cosine", LrSchedule::Cosine}, {"linear", LrSchedule::Linear}, {"none", LrSchedule::None}, {"None", LrSchedule::None, true}};
  return c;
}

const Choices<Checkpointing>& checkpointing_modes() {
  static const Choices<Checkpointing> c = {{"auto", Checkpointing::Auto}, {"on", Checkpointing::On}, {"off", Checkpointing::Off}};
  return c;
}

bool checkpoints_layers(Checkpointing mode, bool on_cuda) { return mode == Checkpointing::On || (mode == Checkpointing::Auto && on_cuda); }

}  // namespace imsm
