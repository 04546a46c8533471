#include "model/attention.h"

#include <torch/version.h>

#include <cmath>

#include "model/rmsnorm.h"
#include "model/rope.h"

namespace imsm {

namespace {
// softmax(q kᵀ / √hd + mask) v, the query heads grouped over the shared kv heads.
// q: [B, H, T, hd], k/v: [B, KV, S, hd], mask: [B, 1, T, S] -> [B, H, T, hd]
torch::Tensor grouped_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& mask) {
  const int64_t B = q.size(0), H = q.size(1), hd = q.size(3), KV = k.size(1), S = k.size(2);
  [[maybe_unused]] const int64_t T = q.size(2);  // the LibTorch 1 path below names it
  const int64_t rep = H / KV;
#if TORCH_VERSION_MAJOR >= 2
  // Fused kernel (flash / memory-efficient on CUDA, blocked on CPU).
  const torch::Tensor k_all = k.unsqueeze(2).expand({B, KV, rep, S, hd}).reshape({B, H, S, hd});  // [B, H, S, hd]
  const torch::Tensor v_all = v.unsqueeze(2).expand({B, KV, rep, S, hd}).reshape({B, H, S, hd});  // [B, H, S, hd]
  return mask.defined() ? at::scaled_dot_product_attention(q, k_all, v_all, mask)  // [B, H, T, hd]
                        : at::scaled_dot_product_attention(q, k_all, v_all);
#else
  const torch::Tensor qg = q.view({B, KV, rep * T, hd});                             // [B, KV, rep*T, hd]
  torch::Tensor scores = torch::matmul(qg, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(hd));  // [B, KV, rep*T, S]
  scores = scores.view({B, KV, rep, T, S});                                          // [B, KV, rep, T, S]
  if (mask.defined()) scores = scores + mask.unsqueeze(1);                          // mask: [B, 1, 1, T, S]
  const auto acc = q.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;  // softmax in >= fp32
  const torch::Tensor probs = torch::softmax(scores.to(acc), -1).to(q.scalar_type());       // [B, KV, rep, T, S]
  const torch::Tensor out = torch::matmul(probs.view({B, KV, rep * T, S}), v);        // [B, KV, rep*T, hd]
  return out.view({B, H, T, hd});                                                     // [B, H, T, hd]
#endif
}
}  // namespace

torch::Tensor Attention::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                 const torch::Tensor& mask, KVCache* cache, int64_t layer, const AdapterRows& rows) const {
  const int64_t B = x.size(0), T = x.size(1);
  torch::Tensor q = q_proj.forward(x, rows).view({B, T, num_heads, head_dim});     // [B, T, H, hd]
  torch::Tensor k = k_proj.forward(x, rows).view({B, T, num_kv_heads, head_dim});  // [B, T, KV, hd]
  if (q_norm.defined()) q = rms_norm(q, q_norm, rms_norm_eps);                     // [B, T, H, hd]
  if (k_norm.defined()) k = rms_norm(k, k_norm, rms_norm_eps);                     // [B, T, KV, hd]
  q = q.transpose(1, 2);                                                           // [B, H, T, hd]
  k = k.transpose(1, 2);                                                           // [B, KV, T, hd]
  torch::Tensor v = v_proj.forward(x, rows).view({B, T, num_kv_heads, head_dim}).transpose(1, 2);  // [B, KV, T, hd]
  q = apply_rotary(q, cos, sin);                                                                    // [B, H, T, hd]
  k = apply_rotary(k, cos, sin);                                                                    // [B, KV, T, hd]
  if (cache != nullptr) std::tie(k, v) = cache->append(layer, k, v);                               // [B, KV, S, hd]
  const torch::Tensor out = grouped_attention(q.contiguous(), k, v, mask);                          // [B, H, T, hd]
  return o_proj.forward(out.transpose(1, 2).reshape({B, T, num_heads * head_dim}), rows);           // [B, T, d]
}

}  // namespace imsm
