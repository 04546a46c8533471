// The random generators dropout draws from — the CPU's always, and on CUDA the
// device's — as a snapshot to put back: a resumed run (train/trainer.h) and an
// activation checkpoint's rerun (model/checkpoint.h) draw the masks the first
// run drew.
#pragma once
#include <torch/torch.h>

namespace imsm {

struct RngSnapshot {
  torch::Tensor cpu;   // [n] uint8
  torch::Tensor cuda;  // [n] uint8; undefined off CUDA
  torch::Device device = torch::kCPU;

  // The generators' states now (each read under its lock).
  static RngSnapshot take(torch::Device device);
  // Puts the states back (each written under its lock); `cuda` only when defined.
  void restore() const;
};

}  // namespace imsm
