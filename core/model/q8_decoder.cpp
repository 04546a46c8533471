#include "model/q8_decoder.h"

#include <ATen/Parallel.h>

// at::parallel_for's OpenMP loop compiles here: without -fopenmp it would run on one thread.
#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "compile this file with OpenMP (core/CMakeLists.txt: the files that call at::parallel_for)"
#endif

#include <cmath>
#include <map>

#include "model/vec_f32.h"
#include "util/error.h"

namespace imsm {

namespace {

using Weights = std::map<std::string, torch::Tensor>;

std::vector<float> floats(const torch::Tensor& t) {
  if (!t.defined()) return {};
  const torch::Tensor c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Rows of `parts` stacked ([Σ rows, cols]) and quantized, rows in parallel.
Q8Matrix quantize_rows(const std::vector<torch::Tensor>& parts) {
  const torch::Tensor w = torch::cat(parts, 0).to(torch::kCPU, torch::kFloat32).contiguous();  // [rows, cols]
  Q8Matrix m(w.size(0), w.size(1));
  const float* src = w.data_ptr<float>();
  at::parallel_for(0, m.rows(), 256, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) m.set_row(r, src + r * m.cols());
  });
  return m;
}

// The biases of `names` stacked, or empty when none has one.
std::vector<float> stacked_bias(const Weights& w, const std::vector<std::string>& names) {
  std::vector<torch::Tensor> parts;
  bool any = false;
  for (const auto& n : names) {
    const auto it = w.find(n + ".bias");
    any = any || it != w.end();
    parts.push_back(it != w.end() ? it->second.to(torch::kFloat32) : torch::zeros({w.at(n + ".weight").size(0)}));
  }
  return any ? floats(torch::cat(parts)) : std::vector<float>{};
}

// x [n] scaled to unit root mean square, times weight (Hugging Face's LlamaRMSNorm in fp32).
void rms_norm_row(const float* x, const std::vector<float>& weight, int64_t n, double eps, float* out) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) out[i] = weight[static_cast<size_t>(i)] * (x[i] * inv);
}

// One head's vector x [hd] rotated by rotate-half RoPE with cos/sin [hd].
void rotate(float* x, const float* cos, const float* sin, int64_t hd) {
  const int64_t half = hd / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float x1 = x[i], x2 = x[i + half];
    x[i] = x1 * cos[i] - x2 * sin[i];
    x[i + half] = x2 * cos[i + half] + x1 * sin[i + half];
  }
}

}  // namespace

Q8DecodeStep::Q8DecodeStep(const LlamaModel& model, Q8Kernel kernel)
    : config_(model.config()), kernel_(kernel), rope_(model.config()) {
  if (model.first_adapted_layer() < config_.num_hidden_layers)
    throw_bad_input("q8_0 decoding", "the model has adapters attached: merge them into the weights first");
  Weights w;
  for (auto& [name, t] : model.named_weights()) w[name] = t;
  embed_tokens_ = w.at("model.embed_tokens.weight");
  for (int64_t l = 0; l < config_.num_hidden_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const std::string q = p + "self_attn.q_proj", k = p + "self_attn.k_proj", v = p + "self_attn.v_proj";
    const std::string o = p + "self_attn.o_proj", g = p + "mlp.gate_proj", u = p + "mlp.up_proj", d = p + "mlp.down_proj";
    Layer layer;
    layer.input_layernorm = floats(w.at(p + "input_layernorm.weight"));
    layer.post_attention_layernorm = floats(w.at(p + "post_attention_layernorm.weight"));
    if (w.count(p + "self_attn.q_norm.weight")) layer.q_norm = floats(w.at(p + "self_attn.q_norm.weight"));
    if (w.count(p + "self_attn.k_norm.weight")) layer.k_norm = floats(w.at(p + "self_attn.k_norm.weight"));
    layer.qkv = quantize_rows({w.at(q + ".weight"), w.at(k + ".weight"), w.at(v + ".weight")});
    layer.qkv_bias = stacked_bias(w, {q, k, v});
    layer.o = quantize_rows({w.at(o + ".weight")});
    layer.o_bias = stacked_bias(w, {o});
    layer.gate_up = quantize_rows({w.at(g + ".weight"), w.at(u + ".weight")});
    layer.gate_up_bias = stacked_bias(w, {g, u});
    layer.down = quantize_rows({w.at(d + ".weight")});
    layer.down_bias = stacked_bias(w, {d});
    layers_.push_back(std::move(layer));
  }
  norm_ = floats(w.at("model.norm.weight"));
  lm_head_ = quantize_rows({model.lm_head_weight()});
}

int64_t Q8DecodeStep::weight_bytes() const {
  int64_t n = lm_head_.bytes();
  for (const Layer& l : layers_) n += l.qkv.bytes() + l.o.bytes() + l.gate_up.bytes() + l.down.bytes();
  return n;
}

void Q8DecodeStep::linear(const Q8Matrix& w, const std::vector<float>& bias, const float* x, int64_t T, float* y) {
  quantize_input_q8_0(x, T, w.cols(), input_, kernel_);
  at::parallel_for(0, w.rows(), 64, [&](int64_t begin, int64_t end) { q8_matmul_rows(w, input_, y, begin, end, kernel_); });
  if (!bias.empty())
    for (int64_t t = 0; t < T; ++t)
      for (int64_t r = 0; r < w.rows(); ++r) y[t * w.rows() + r] += bias[static_cast<size_t>(r)];
}

void Q8DecodeStep::attend(const Layer& layer, const float* q, int64_t T, float* out) const {
  const int64_t H = config_.num_attention_heads, KV = config_.num_key_value_heads, hd = config_.head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  at::parallel_for(0, T * H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> p(static_cast<size_t>(past_ + T));  // [S]: one query's weights over the positions
    for (int64_t th = begin; th < end; ++th) {
      const int64_t t = th / H, kv = (th % H) / (H / KV), S = past_ + t + 1;  // causal: up to the query's own position
      const float* qh = q + th * hd;                                          // [hd]
      float top = -INFINITY;
      for (int64_t s = 0; s < S; ++s) {
        p[static_cast<size_t>(s)] = scale * dot_f32(qh, layer.k_cache.data() + (s * KV + kv) * hd, hd);
        top = std::max(top, p[static_cast<size_t>(s)]);
      }
      float sum = 0;
      for (int64_t s = 0; s < S; ++s) sum += p[static_cast<size_t>(s)] = std::exp(p[static_cast<size_t>(s)] - top);
      for (int64_t s = 0; s < S; ++s) p[static_cast<size_t>(s)] /= sum;
      weighted_sum_f32(p.data(), layer.v_cache.data() + kv * hd, S, KV * hd, hd, out + th * hd);  // [hd]
    }
  });
}

void Q8DecodeStep::layer_forward(Layer& layer, std::vector<float>& x, int64_t T, const float* cos, const float* sin) {
  const int64_t d = config_.hidden_size, H = config_.num_attention_heads, KV = config_.num_key_value_heads, hd = config_.head_dim;
  const int64_t I = config_.intermediate_size, width = (H + 2 * KV) * hd;
  const double eps = config_.rms_norm_eps;
  std::vector<float> normed(static_cast<size_t>(T * d)), qkv(static_cast<size_t>(T * width));  // [T, d], [T, (H + 2 KV) hd]
  for (int64_t t = 0; t < T; ++t) rms_norm_row(x.data() + t * d, layer.input_layernorm, d, eps, normed.data() + t * d);
  linear(layer.qkv, layer.qkv_bias, normed.data(), T, qkv.data());

  const size_t need = static_cast<size_t>((past_ + T) * KV * hd);
  if (layer.k_cache.size() < need) {  // grown by doubling
    layer.k_cache.resize(std::max(need, 2 * layer.k_cache.size()));
    layer.v_cache.resize(layer.k_cache.size());
  }
  std::vector<float> q(static_cast<size_t>(T * H * hd));  // [T, H hd]
  for (int64_t t = 0; t < T; ++t) {
    float* row = qkv.data() + t * width;  // q [H hd], k [KV hd], v [KV hd]
    for (int64_t h = 0; h < H + KV; ++h) {
      float* head = row + h * hd;
      const std::vector<float>& norm = h < H ? layer.q_norm : layer.k_norm;
      if (!norm.empty()) rms_norm_row(head, norm, hd, eps, head);
      rotate(head, cos + t * hd, sin + t * hd, hd);
    }
    std::copy(row, row + H * hd, q.data() + t * H * hd);
    std::copy(row + H * hd, row + (H + KV) * hd, layer.k_cache.data() + (past_ + t) * KV * hd);
    std::copy(row + (H + KV) * hd, row + width, layer.v_cache.data() + (past_ + t) * KV * hd);
  }
  std::vector<float> attn(static_cast<size_t>(T * H * hd)), out(static_cast<size_t>(T * d));  // [T, H hd], [T, d]
  attend(layer, q.data(), T, attn.data());
  linear(layer.o, layer.o_bias, attn.data(), T, out.data());
  for (size_t i = 0; i < out.size(); ++i) x[i] += out[i];

  std::vector<float> gate_up(static_cast<size_t>(T * 2 * I)), act(static_cast<size_t>(T * I));  // [T, 2 I], [T, I]
  for (int64_t t = 0; t < T; ++t) rms_norm_row(x.data() + t * d, layer.post_attention_layernorm, d, eps, normed.data() + t * d);
  linear(layer.gate_up, layer.gate_up_bias, normed.data(), T, gate_up.data());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < I; ++i) {
      const float g = gate_up[static_cast<size_t>(t * 2 * I + i)], u = gate_up[static_cast<size_t>(t * 2 * I + I + i)];
      act[static_cast<size_t>(t * I + i)] = g / (1.0f + std::exp(-g)) * u;  // silu(gate) · up
    }
  linear(layer.down, layer.down_bias, act.data(), T, out.data());
  for (size_t i = 0; i < out.size(); ++i) x[i] += out[i];
}

torch::Tensor Q8DecodeStep::next_logits(const torch::Tensor& ids, const torch::Tensor& positions, const torch::Tensor& mask) {
  if (ids.size(0) != 1) throw_bad_input("q8_0 decoding", "decodes one sequence at a time, not " + std::to_string(ids.size(0)));
  if (mask.defined() && mask.min().item<int64_t>() == 0) throw_bad_input("q8_0 decoding", "one sequence has no padding");
  const int64_t T = ids.size(1), d = config_.hidden_size;
  const torch::Tensor rows = embed_tokens_.index_select(0, ids[0].to(torch::kInt64)).to(torch::kFloat32).contiguous();  // [T, d]
  std::vector<float> x(rows.data_ptr<float>(), rows.data_ptr<float>() + T * d);                                        // [T, d]
  const auto [cos_t, sin_t] = rope_.cos_sin(positions.to(torch::kInt64), torch::kFloat32);                              // [1, T, hd] each
  const torch::Tensor cos = cos_t.contiguous(), sin = sin_t.contiguous();
  for (Layer& layer : layers_) layer_forward(layer, x, T, cos.data_ptr<float>(), sin.data_ptr<float>());
  past_ += T;

  std::vector<float> last(static_cast<size_t>(d));  // [d]: the final norm of the last position
  rms_norm_row(x.data() + (T - 1) * d, norm_, d, config_.rms_norm_eps, last.data());
  torch::Tensor logits = torch::empty({1, config_.vocab_size}, torch::kFloat32);  // [1, vocab]
  linear(lm_head_, {}, last.data(), 1, logits.data_ptr<float>());
  return logits;
}

}  // namespace imsm
