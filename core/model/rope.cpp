#include "model/rope.h"

#include <cmath>

namespace imsm {

namespace {
// inv_freq_i = 1 / theta^(2i / dim), i = 0 .. dim/2 - 1.
torch::Tensor base_frequencies(int64_t dim, double theta) {
  const torch::Tensor i2 = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32);  // [dim/2]
  return 1.0 / torch::pow(theta, i2 / static_cast<double>(dim));                        // [dim/2]
}

// Llama 3.1's smooth interpolation between scaled low and unscaled high frequencies.
torch::Tensor llama3_scale(const torch::Tensor& inv_freq, const RopeScaling& s) {
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_len / s.low_freq_factor;
  const double high_freq_wavelen = old_len / s.high_freq_factor;
  const torch::Tensor wavelen = 2.0 * M_PI / inv_freq;                                         // [dim/2]
  torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);  // [dim/2]
  const torch::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const torch::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;           // [dim/2]
  const torch::Tensor is_medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen);
  return torch::where(is_medium, smoothed, scaled);                                            // [dim/2]
}
}  // namespace

RotaryEmbedding::RotaryEmbedding(const ModelConfig& c)
    : head_dim_(c.head_dim), theta_(c.rope_theta), scaling_(c.rope_scaling) {
  inv_freq_ = base_frequencies(head_dim_, theta_);
  if (scaling_.type == "linear") inv_freq_ = inv_freq_ / scaling_.factor;
  if (scaling_.type == "llama3") inv_freq_ = llama3_scale(inv_freq_, scaling_);
}

torch::Tensor RotaryEmbedding::frequencies(int64_t seq_len) const {
  if (scaling_.type == "dynamic" && seq_len > scaling_.original_max_position_embeddings) {
    // Dynamic NTK: a larger base once the sequence outgrows the trained length.
    const double orig = static_cast<double>(scaling_.original_max_position_embeddings);
    const double d = static_cast<double>(head_dim_);
    const double base = theta_ * std::pow(scaling_.factor * seq_len / orig - (scaling_.factor - 1), d / (d - 2));
    return base_frequencies(head_dim_, base);
  }
  return inv_freq_;
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbedding::cos_sin(const torch::Tensor& positions,
                                                                 torch::ScalarType dtype) const {
  const int64_t seq_len = positions.numel() > 0 ? positions.max().item<int64_t>() + 1 : 0;
  const torch::Tensor inv = frequencies(seq_len).to(positions.device());                        // [hd/2]
  const torch::Tensor freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv.view({1, 1, -1});  // [B, T, hd/2]
  const torch::Tensor emb = torch::cat({freqs, freqs}, -1);                                      // [B, T, hd]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const torch::Tensor x1 = x.narrow(-1, 0, half);        // [B, H, T, hd/2]
  const torch::Tensor x2 = x.narrow(-1, half, half);     // [B, H, T, hd/2]
  const torch::Tensor rotated = torch::cat({-x2, x1}, -1);  // [B, H, T, hd]  rotate_half(x)
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);  // cos/sin: [B, 1, T, hd]
}

}  // namespace imsm
