#include "imsm/mix_sweep.h"

#include "imsm/gate.h"
#include "util/error.h"

namespace imsm {

MixSweepStep::MixSweepStep(const LlamaModel& model, std::vector<double> alphas, int64_t prompts)
    : model_(model), alphas_(std::move(alphas)), P_(prompts), cache_(model.make_cache()) {
  if (alphas_.empty() || P_ <= 0) throw_internal("MixSweepStep: no α or no prompt");
  for (double a : alphas_)
    if (!(a >= 0 && a <= 1)) throw_internal("MixSweepStep: an α outside [0, 1]");  // requests are checked (recipes/eval.h)
  const auto A = static_cast<int64_t>(alphas_.size());
  alpha_rows_ = torch::tensor(alphas_, torch::kFloat64).repeat_interleave(P_).view({A * P_, 1, 1})
                    .to(model.device(), gate_dtype(model.dtype()));  // [A·P, 1, 1]
}

torch::Tensor MixSweepStep::next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) {
  const int64_t R = ids.size(0), T = ids.size(1), A = static_cast<int64_t>(alphas_.size());
  if (R != A * P_) throw_internal("MixSweepStep: the batch must hold every prompt once per α");
  const bool prompt = cache_.length() == 0;
  const int64_t rows = prompt ? P_ : R;  // the prompt: its P distinct rows only
  const torch::Tensor step_ids = ids.narrow(0, 0, rows), step_positions = positions.narrow(0, 0, rows);  // [rows, T]
  ForwardInput input;
  input.input_ids = torch::cat({step_ids, step_ids}, 0);                  // [2·rows, T]: tuned rows, then original rows
  input.positions = torch::cat({step_positions, step_positions}, 0);      // [2·rows, T]
  if (mask.defined()) {
    const torch::Tensor m = mask.narrow(0, 0, rows);                       // [rows, S]
    input.attention_mask = torch::cat({m, m}, 0);                          // [2·rows, S]
  }
  input.adapter_rows = {0, rows, true};                                    // adapters on the tuned rows only
  input.cache = &cache_;
  const torch::Tensor h = model_.forward_hidden(input);                    // [2·rows, T, d]
  torch::Tensor last_Mp = h.narrow(0, 0, rows).select(1, T - 1).unsqueeze(1);     // [rows, 1, d] tuned memory
  torch::Tensor last_M = h.narrow(0, rows, rows).select(1, T - 1).unsqueeze(1);   // [rows, 1, d] original memory
  if (prompt) {  // every α continues from the same prompt: its cache and last states repeated A times
    const torch::Tensor each = torch::arange(P_, torch::kInt64).repeat({A});                    // [A·P]
    cache_.select_rows(torch::cat({each, each + P_}));                                          // [2·A·P] rows
    last_Mp = last_Mp.repeat({A, 1, 1});                                                        // [A·P, 1, d]
    last_M = last_M.repeat({A, 1, 1});                                                          // [A·P, 1, d]
  }
  const auto dt = alpha_rows_.scalar_type();
  const torch::Tensor h_N = alpha_rows_ * last_M.to(dt) + (1 - alpha_rows_) * last_Mp.to(dt);  // [A·P, 1, d]
  return model_.lm_head(h_N.squeeze(1).to(model_.dtype())).to(torch::kCPU, torch::kFloat32).contiguous();  // [A·P, vocab]
}

}  // namespace imsm
