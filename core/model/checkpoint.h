// Activation checkpointing, written for LibTorch (which has no
// torch.utils.checkpoint): a function of one tensor runs without keeping its
// activations for the backward; the backward runs it again from its saved
// input, with the random numbers the first run drew (dropout), and
// back-propagates through the rerun. One decoder layer's activations live at
// a time instead of every layer's (issue 15, item 1).
#pragma once
#include <torch/torch.h>

#include <functional>

namespace imsm {

// y = fn(x), the same value; the gradients to x and to the tensors fn reads
// (weights, adapters: they must outlive the backward) are those of fn(x)
// called directly. Call it with grad mode on; without grad it is fn(x).
torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& fn, const torch::Tensor& x);

}  // namespace imsm
