// Activation checkpointing (model/checkpoint.h) against the plain backward:
// the same loss and gradients with dropout on (the rerun replays the first
// run's random numbers), and a training run with it gives the losses of one
// without it.
#include <gtest/gtest.h>

#include "model/loader.h"
#include "recipes/train.h"
#include "recipes/train_config.h"
#include "tokenizer/tokenizer.h"
#include "train/batch.h"
#include "train/dataset.h"
#include "train/target.h"
#include "train_fixtures.h"

namespace {

// The loss and every trainable gradient of one step, in training mode (dropout on), from generator seed 9.
torch::Tensor step(imsm::LlamaModel& model, imsm::SiameseTarget& target, const imsm::TrainBatch& batch, bool checkpointing) {
  model.set_gradient_checkpointing(checkpointing);
  for (auto& p : target.parameters())
    if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
  torch::manual_seed(9);
  const torch::Tensor loss = target.loss(batch);
  loss.backward();
  std::vector<torch::Tensor> out = {loss.detach().reshape({1})};
  for (auto& p : target.parameters()) out.push_back(p.tensor.grad().clone().reshape({-1}));
  out.push_back(torch::rand({1}));  // where the generator is after the step: the rerun must leave it as it was
  return torch::cat(out);
}

}  // namespace

TEST(Checkpointing, SameLossGradientsAndRandomNumbersWithDropout) {
  imsm::testing::TrainWorkspace w;
  auto model = imsm::load_llama(w.model, {});
  imsm::PeftConfig pc;
  pc.dropout = 0.1;
  auto adapters = imsm::PeftAdapters::attach(*model, pc, 3);
  imsm::GateConfig gc;
  gc.hidden_size = model->config().hidden_size;
  gc.rank = 4;
  imsm::ImsmGate gate(gc, torch::kCPU, torch::kFloat32, 5);
  const auto tokenizer = imsm::load_tokenizer(w.model);
  const auto examples = imsm::read_examples(w.data);
  std::vector<imsm::EncodedExample> encoded;
  for (size_t i = 0; i < 4; ++i) encoded.push_back(imsm::encode_example(*tokenizer, examples[i], 64, 16, tokenizer->eos_ids().at(0)));
  std::vector<const imsm::EncodedExample*> rows;
  for (const auto& e : encoded) rows.push_back(&e);
  const imsm::TrainBatch batch = imsm::collate(rows, torch::kCPU);
  imsm::SiameseTarget target(*model, *adapters, &gate);
  target.set_training(true);
  {  // LoRA's B and the gate's B start at 0, where dropout changes nothing: a trained-looking state instead
    torch::NoGradGuard no_grad;
    torch::manual_seed(4);
    for (auto& p : target.parameters()) p.tensor.normal_(0, 0.2);
  }
  const torch::Tensor plain = step(*model, target, batch, false), checkpointed = step(*model, target, batch, true);
  // The rerun is the same computation on the same inputs with the same masks: equal to float rounding of a
  // differently scheduled backward (1e-6 on fp32 gradients of order 1e-2).
  EXPECT_LE((checkpointed - plain).abs().max().item<double>(), 1e-6);
  EXPECT_GT(plain.narrow(0, 1, plain.size(0) - 2).abs().max().item<double>(), 0.0);
  // Dropout did act: another seed gives another loss.
  torch::manual_seed(10);
  EXPECT_NE(target.loss(batch).item<double>(), plain[0].item<double>());
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
