// An IMSM(LoRA) on the training tests' small model and a batch of its first
// four examples, for tests that compare two ways of computing one training
// step. The trainable parameters are drawn away from their initialisation:
// LoRA's B and the gate's B start at 0, where dropout and much of the
// backward change nothing.
#pragma once
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "imsm/gate.h"
#include "model/loader.h"
#include "peft/peft_model.h"
#include "tokenizer/tokenizer.h"
#include "train/batch.h"
#include "train/dataset.h"
#include "train/target.h"
#include "train_fixtures.h"

namespace imsm::testing {

struct SiameseFixture {
  TrainWorkspace w;
  std::unique_ptr<LlamaModel> model = load_llama(w.model, {});
  std::unique_ptr<PeftAdapters> adapters;
  std::unique_ptr<ImsmGate> gate;
  TrainBatch batch;

  SiameseFixture() {
    PeftConfig pc;
    pc.dropout = 0.1;
    adapters = PeftAdapters::attach(*model, pc, 3);
    GateConfig gc;
    gc.hidden_size = model->config().hidden_size;
    gc.rank = 4;
    gate = std::make_unique<ImsmGate>(gc, torch::kCPU, torch::kFloat32, 5);
    const auto tokenizer = load_tokenizer(w.model);
    const auto examples = read_examples(w.data);
    std::vector<EncodedExample> encoded;
    for (size_t i = 0; i < 4; ++i) encoded.push_back(encode_example(*tokenizer, examples[i], 64, 16, tokenizer->eos_ids().at(0)));
    std::vector<const EncodedExample*> rows;
    for (const auto& e : encoded) rows.push_back(&e);
    batch = collate(rows, torch::kCPU);
    torch::NoGradGuard no_grad;
    torch::manual_seed(4);
    for (auto& p : SiameseTarget(*model, *adapters, gate.get()).parameters()) p.tensor.normal_(0, 0.2);
  }

  // One step of `target` from generator seed `seed`: [loss, every trainable gradient..., the generator's next draw].
  torch::Tensor step(const SiameseTarget& target, uint64_t seed) const {
    for (auto& p : target.parameters())
      if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
    torch::manual_seed(seed);
    const torch::Tensor loss = target.loss(batch);
    loss.backward();
    std::vector<torch::Tensor> out = {loss.detach().reshape({1})};
    for (auto& p : target.parameters()) out.push_back(p.tensor.grad().clone().reshape({-1}));
    out.push_back(torch::rand({1}));
    return torch::cat(out);
  }
};

}  // namespace imsm::testing
