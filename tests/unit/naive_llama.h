// An independent, deliberately plain Llama forward for the tests: scalar
// double-precision loops over positions, heads and dimensions, no cache, no
// batching, no LibTorch ops. It reads the model's weights and nothing else.
#pragma once
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "io/hf_config.h"

namespace imsm::testing {

using Vec = std::vector<double>;
struct Mat {
  int64_t rows = 0, cols = 0;
  Vec data;  // row-major [rows, cols]
  double at(int64_t r, int64_t c) const { return data[r * cols + c]; }
};

struct NaiveWeights {
  std::map<std::string, Mat> mats;  // 2-D weights
  std::map<std::string, Vec> vecs;  // norms and biases
};

inline Vec matvec(const Mat& w, const Vec& x, const Vec* bias) {
  Vec y(w.rows, 0.0);
  for (int64_t r = 0; r < w.rows; ++r) {
    double s = bias ? (*bias)[r] : 0.0;
    for (int64_t c = 0; c < w.cols; ++c) s += w.at(r, c) * x[c];
    y[r] = s;
  }
  return y;
}

inline Vec rmsnorm(const Vec& x, const Vec& w, double eps) {
  double ms = 0;
  for (double v : x) ms += v * v;
  ms /= static_cast<double>(x.size());
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = w[i] * x[i] / std::sqrt(ms + eps);
  return y;
}

// RMS-normalises v[offset .. offset + n) in place with weight w.
inline void head_rmsnorm(Vec& v, int64_t offset, int64_t n, const Vec& w, double eps) {
  const Vec part(v.begin() + offset, v.begin() + offset + n);
  const Vec normed = rmsnorm(part, w, eps);
  std::copy(normed.begin(), normed.end(), v.begin() + offset);
}

// Rotary frequency of pair i for a sequence of seq_len positions (Hugging Face
// modeling_rope_utils, written out).
inline double inv_freq(const ModelConfig& c, int64_t i, int64_t seq_len) {
  const double dim = static_cast<double>(c.head_dim);
  const auto& s = c.rope_scaling;
  double base = c.rope_theta;
  if (s.type == "dynamic" && seq_len > s.original_max_position_embeddings)  // NTK-aware base
    base *= std::pow(s.factor * seq_len / s.original_max_position_embeddings - (s.factor - 1), dim / (dim - 2));
  double f = 1.0 / std::pow(base, 2.0 * i / dim);
  if (s.type == "linear") f /= s.factor;
  if (s.type == "llama3") {
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double wavelen = 2 * M_PI / f;
    if (wavelen < old_len / s.high_freq_factor) return f;                  // high frequency: unchanged
    if (wavelen > old_len / s.low_freq_factor) return f / s.factor;       // low frequency: scaled
    const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    return (1 - smooth) * f / s.factor + smooth * f;                      // in between: interpolated
  }
  return f;
}

// Rotates one head vector (rotate-half pairs i and i + hd/2) for position pos.
inline void rope(const ModelConfig& c, Vec& v, int64_t offset, int64_t pos, int64_t seq_len) {
  const int64_t half = c.head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const double angle = static_cast<double>(pos) * inv_freq(c, i, seq_len);
    const double a = v[offset + i], b = v[offset + i + half];
    v[offset + i] = a * std::cos(angle) - b * std::sin(angle);
    v[offset + i + half] = b * std::cos(angle) + a * std::sin(angle);
  }
}

// Logits [T][vocab] for one sequence at positions 0..T-1.
inline std::vector<Vec> naive_forward(const ModelConfig& c, const NaiveWeights& w, const std::vector<int32_t>& ids) {
  const int64_t T = static_cast<int64_t>(ids.size()), d = c.hidden_size, H = c.num_attention_heads,
                KV = c.num_key_value_heads, hd = c.head_dim;
  auto bias = [&](const std::string& name) -> const Vec* {
    const auto it = w.vecs.find(name);
    return it == w.vecs.end() ? nullptr : &it->second;
  };
  std::vector<Vec> x(T);
  const Mat& emb = w.mats.at("model.embed_tokens.weight");
  for (int64_t t = 0; t < T; ++t) x[t] = Vec(emb.data.begin() + ids[t] * d, emb.data.begin() + (ids[t] + 1) * d);

  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<Vec> q(T), k(T), v(T);
    for (int64_t t = 0; t < T; ++t) {
      const Vec h = rmsnorm(x[t], w.vecs.at(p + "input_layernorm.weight"), c.rms_norm_eps);
      q[t] = matvec(w.mats.at(p + "self_attn.q_proj.weight"), h, bias(p + "self_attn.q_proj.bias"));
      k[t] = matvec(w.mats.at(p + "self_attn.k_proj.weight"), h, bias(p + "self_attn.k_proj.bias"));
      v[t] = matvec(w.mats.at(p + "self_attn.v_proj.weight"), h, bias(p + "self_attn.v_proj.bias"));
      if (c.qk_norm) {  // Qwen3: each head's query and key RMS-normalised before the rotation
        for (int64_t head = 0; head < H; ++head) head_rmsnorm(q[t], head * hd, hd, w.vecs.at(p + "self_attn.q_norm.weight"), c.rms_norm_eps);
        for (int64_t head = 0; head < KV; ++head) head_rmsnorm(k[t], head * hd, hd, w.vecs.at(p + "self_attn.k_norm.weight"), c.rms_norm_eps);
      }
      for (int64_t head = 0; head < H; ++head) rope(c, q[t], head * hd, t, T);
      for (int64_t head = 0; head < KV; ++head) rope(c, k[t], head * hd, t, T);
    }
    for (int64_t t = 0; t < T; ++t) {
      Vec attn(H * hd, 0.0);
      for (int64_t head = 0; head < H; ++head) {
        const int64_t kvh = head / (H / KV);  // query heads share kv heads in groups
        Vec scores(t + 1);
        double top = -1e300;
        for (int64_t j = 0; j <= t; ++j) {
          double s = 0;
          for (int64_t i = 0; i < hd; ++i) s += q[t][head * hd + i] * k[j][kvh * hd + i];
          scores[j] = s / std::sqrt(static_cast<double>(hd));
          top = std::max(top, scores[j]);
        }
        double z = 0;
        for (auto& s : scores) z += s = std::exp(s - top);
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t i = 0; i < hd; ++i) attn[head * hd + i] += scores[j] / z * v[j][kvh * hd + i];
      }
      const Vec o = matvec(w.mats.at(p + "self_attn.o_proj.weight"), attn, bias(p + "self_attn.o_proj.bias"));
      for (int64_t i = 0; i < d; ++i) x[t][i] += o[i];
      const Vec h = rmsnorm(x[t], w.vecs.at(p + "post_attention_layernorm.weight"), c.rms_norm_eps);
      const Vec g = matvec(w.mats.at(p + "mlp.gate_proj.weight"), h, bias(p + "mlp.gate_proj.bias"));
      const Vec u = matvec(w.mats.at(p + "mlp.up_proj.weight"), h, bias(p + "mlp.up_proj.bias"));
      Vec a(g.size());
      for (size_t i = 0; i < g.size(); ++i) a[i] = g[i] / (1 + std::exp(-g[i])) * u[i];  // silu(g) * u
      const Vec down = matvec(w.mats.at(p + "mlp.down_proj.weight"), a, bias(p + "mlp.down_proj.bias"));
      for (int64_t i = 0; i < d; ++i) x[t][i] += down[i];
    }
  }
  const Mat& head = w.mats.count("lm_head.weight") ? w.mats.at("lm_head.weight") : emb;
  std::vector<Vec> logits(T);
  for (int64_t t = 0; t < T; ++t) logits[t] = matvec(head, rmsnorm(x[t], w.vecs.at("model.norm.weight"), c.rms_norm_eps), nullptr);
  return logits;
}

}  // namespace imsm::testing
