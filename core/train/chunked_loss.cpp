#include "train/chunked_loss.h"

#include <algorithm>

#include "util/error.h"

namespace imsm {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Cross-entropy of rows h [N, d] against targets [N] through the head W [V, d],
// summed over the rows, chunk rows at a time; the backward recomputes each
// chunk's logits (softmax − one-hot) instead of keeping them.
struct ChunkedCrossEntropy : public torch::autograd::Function<ChunkedCrossEntropy> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& W, const torch::Tensor& targets,
                               int64_t chunk) {
    const auto acc = h.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
    const torch::Tensor Wa = W.to(acc);                                          // [V, d]
    torch::Tensor sum = torch::zeros({}, h.options().dtype(acc));               // scalar
    for (int64_t start = 0; start < h.size(0); start += chunk) {
      const int64_t n = std::min(chunk, h.size(0) - start);
      const torch::Tensor logits = torch::matmul(h.narrow(0, start, n).to(acc), Wa.t());  // [n, V]
      const torch::Tensor t = targets.narrow(0, start, n).unsqueeze(1);                  // [n, 1]
      sum += (torch::logsumexp(logits, 1) - logits.gather(1, t).squeeze(1)).sum();       // Σ −log p(target)
    }
    ctx->save_for_backward({h, W, targets});
    ctx->saved_data["chunk"] = chunk;
    return sum;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_output) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &h = saved[0], &W = saved[1], &targets = saved[2];
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto acc = h.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
    const torch::Tensor Wa = W.to(acc);                  // [V, d]
    const torch::Tensor g = grad_output[0].to(acc);     // scalar
    torch::Tensor grad_h = torch::empty_like(h);         // [N, d]
    torch::Tensor grad_W = W.requires_grad() ? torch::zeros_like(Wa) : torch::Tensor();  // [V, d]
    for (int64_t start = 0; start < h.size(0); start += chunk) {
      const int64_t n = std::min(chunk, h.size(0) - start);
      const torch::Tensor hc = h.narrow(0, start, n).to(acc);                     // [n, d]
      torch::Tensor dlogits = torch::softmax(torch::matmul(hc, Wa.t()), 1);       // [n, V]
      dlogits.scatter_add_(1, targets.narrow(0, start, n).unsqueeze(1), -torch::ones({n, 1}, dlogits.options()));
      dlogits.mul_(g);                                                             // d(sum)/d(logits) · upstream
      grad_h.narrow(0, start, n).copy_(torch::matmul(dlogits, Wa));                // [n, d]
      if (grad_W.defined()) grad_W.add_(torch::matmul(dlogits.t(), hc));           // [V, d]
    }
    return {grad_h, grad_W.defined() ? grad_W.to(W.scalar_type()) : torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& head_weight, const torch::Tensor& labels, int64_t chunk) {
  if (chunk <= 0) throw_bad_input("loss_chunk_size", "must be positive");
  const int64_t d = hidden.size(-1);
  const torch::Tensor target = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});             // [B*(T-1)]
  const torch::Tensor scored = target.ne(-100).nonzero().squeeze(1);                               // [N]
  const torch::Tensor h = hidden.narrow(1, 0, hidden.size(1) - 1).reshape({-1, d}).index_select(0, scored);  // [N, d]
  const torch::Tensor sum = ChunkedCrossEntropy::apply(h, head_weight, target.index_select(0, scored), chunk);  // scalar
  return sum / static_cast<double>(std::max<int64_t>(1, scored.size(0)));  // the mean over scored tokens
}

}  // namespace imsm
