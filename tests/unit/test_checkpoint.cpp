// Activation checkpointing (model/checkpoint.h) against the plain backward:
// the same loss and gradients with dropout on (the rerun replays the first
// run's random numbers), and a training run with it gives the losses of one
// without it.
#include <gtest/gtest.h>

#include "config/train_config.h"
#include "recipes/train.h"
#include "siamese_fixture.h"

TEST(Checkpointing, SameLossGradientsAndRandomNumbersWithDropout) {
  imsm::testing::SiameseFixture f;
  imsm::SiameseTarget target(*f.model, *f.adapters, f.gate.get());
  target.set_training(true);  // dropout on
  f.model->set_gradient_checkpointing(false);
  const torch::Tensor plain = f.step(target, 9);
  f.model->set_gradient_checkpointing(true);
  const torch::Tensor checkpointed = f.step(target, 9);
  // The rerun is the same computation on the same inputs with the same masks: equal to float rounding of a
  // differently scheduled backward (1e-6 on fp32 gradients of order 1e-2); the last entry, the generator's next
  // draw, shows the rerun left the generator where it was.
  EXPECT_LE((checkpointed - plain).abs().max().item<double>(), 1e-6);
  EXPECT_GT(plain.narrow(0, 1, plain.size(0) - 2).abs().max().item<double>(), 0.0);
  EXPECT_NE(f.step(target, 10)[0].item<double>(), plain[0].item<double>());  // dropout did act: another seed, another loss
}

TEST(Checkpointing, TrainingGivesTheSameLosses) {
  imsm::testing::TrainWorkspace w;
  auto cfg = w.config(w.dir.file("off"));
  cfg["num_epochs"] = 1;
  cfg["gradient_checkpointing"] = "off";
  const auto off = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  cfg["output_dir"] = w.dir.file("on");
  cfg["gradient_checkpointing"] = "on";
  const auto on = imsm::run_train(imsm::parse_train_config(cfg, "test"));
  ASSERT_EQ(on.losses.size(), off.losses.size());
  for (size_t i = 0; i < on.losses.size(); ++i) EXPECT_NEAR(on.losses[i], off.losses[i], 1e-6) << "step " << i + 1;
}
