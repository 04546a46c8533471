#include "imsm/gate.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/dropout.h"
#include "model/tensor_io.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

torch::ScalarType gate_dtype(torch::ScalarType model_dtype) {
  return model_dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

ImsmGate::ImsmGate(const GateConfig& config, torch::Device device, torch::ScalarType dtype, uint64_t seed)
    : config_(config), dtype_(dtype) {
  if (config.variant == GateVariant::None) throw_internal("ImsmGate: the variant none has no gate (pass a null gate)");
  if (!(config.alpha >= 0 && config.alpha <= 1)) throw_bad_input("mix_alpha", "must be in [0, 1], not " + std::to_string(config.alpha));
  if (!has_weights(config.variant)) return;  // no-gate: the fixed mix
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  const int64_t d = config.hidden_size, r = config.rank, kd = config.blocks() * d;
  const double bound_A = 1.0 / std::sqrt(static_cast<double>(kd)), bound_B = 1.0 / std::sqrt(static_cast<double>(r));
  gate_A = at::empty({r, kd}, torch::kFloat64).uniform_(-bound_A, bound_A, gen).to(device, dtype).requires_grad_(true);
  gate_B = at::empty({d, r}, torch::kFloat64).uniform_(-bound_B, bound_B, gen).to(device, dtype).requires_grad_(true);
}

torch::Tensor ImsmGate::gate(const torch::Tensor& h_M, const torch::Tensor& h_Mp, const torch::Tensor& q_M,
                             const torch::Tensor& q_Mp) const {
  const int64_t d = config_.hidden_size;
  const auto dt = dtype_;
  auto block = [&](int64_t i) { return gate_A.narrow(1, i * d, d); };  // W_A's i-th d-wide block: [r, d]
  torch::Tensor a;                                                       // [B, T, r]
  if (config_.variant == GateVariant::Query) {
    const torch::Tensor per_sequence = torch::matmul(q_M.to(dt), block(0).t()) + torch::matmul(q_Mp.to(dt), block(3).t());  // [B, r]
    a = torch::matmul(h_M.to(dt), block(1).t()) + torch::matmul(h_Mp.to(dt), block(2).t()) + per_sequence.unsqueeze(1);
  } else {
    a = torch::matmul(h_M.to(dt), block(0).t()) + torch::matmul(h_Mp.to(dt), block(1).t());
  }
  a = imsm::dropout(a, config_.dropout, training_);                           // [B, T, r]
  const torch::Tensor b = imsm::dropout(torch::matmul(a, gate_B.t()), config_.dropout, training_);  // [B, T, d]
  return torch::sigmoid(b);                                                    // [B, T, d]
}

torch::Tensor ImsmGate::mix(const torch::Tensor& h_M, const torch::Tensor& h_Mp, const torch::Tensor& q_M,
                            const torch::Tensor& q_Mp, torch::Tensor* g_out) const {
  const auto dt = dtype_;
  if (config_.variant == GateVariant::NoGate) {
    if (g_out) *g_out = torch::full(h_M.sizes(), config_.alpha, h_M.options().dtype(dt));
    return fixed_mix(config_.alpha, h_M, h_Mp, dt);  // [B, T, d]
  }
  const torch::Tensor g = gate(h_M, h_Mp, q_M, q_Mp);  // [B, T, d]
  if (g_out) *g_out = g;
  return interweave(g, h_M.to(dt), h_Mp.to(dt));       // [B, T, d]
}

torch::Tensor ImsmGate::fixed_mix(double alpha, const torch::Tensor& h_M, const torch::Tensor& h_Mp, torch::ScalarType dtype) {
  return alpha * h_M.to(dtype) + (1 - alpha) * h_Mp.to(dtype);  // [B, T, d]
}

std::unique_ptr<ImsmGate> ImsmGate::fixed(double alpha, int64_t hidden_size, torch::Device device, torch::ScalarType dtype) {
  GateConfig c;
  c.variant = GateVariant::NoGate;
  c.hidden_size = hidden_size;
  c.alpha = alpha;
  return std::make_unique<ImsmGate>(c, device, dtype, 0);
}

torch::Tensor ImsmGate::interweave(const torch::Tensor& g, const torch::Tensor& h_M, const torch::Tensor& h_Mp) {
  return g * h_M + (1 - g) * h_Mp;  // [B, T, d]
}

std::vector<std::pair<std::string, torch::Tensor>> ImsmGate::named_parameters() const {
  if (!trainable()) return {};
  return {{"imsm.gate_A.weight", gate_A}, {"imsm.gate_B.weight", gate_B}};
}

int64_t ImsmGate::num_parameters() const { return trainable() ? gate_A.numel() + gate_B.numel() : 0; }

void ImsmGate::save(const std::string& dir) const {
  fs::create_directories(dir);
  const fs::path weights = fs::path(dir) / "imsm_gate.safetensors";
  if (has_weights(config_.variant))
    save_tensors(weights.string(),
                 {{"imsm.gate_A.weight", gate_A.to(torch::kFloat32)}, {"imsm.gate_B.weight", gate_B.to(torch::kFloat32)}},
                 {{"format", "pt"}});
  else
    fs::remove(weights);  // no-gate and none have no weights: a stale file from another variant would mislead
  json::write_file((fs::path(dir) / "imsm_config.json").string(), gate_config_json(config_));
}

std::unique_ptr<ImsmGate> ImsmGate::load(const std::string& dir, torch::Device device, torch::ScalarType dtype) {
  const GateConfig c = read_gate_config((fs::path(dir) / "imsm_config.json").string());
  if (c.variant == GateVariant::None) return nullptr;
  if (!has_weights(c.variant)) return std::make_unique<ImsmGate>(c, device, dtype, 0);  // no-gate (the average): nothing to load
  const std::string weights = (fs::path(dir) / "imsm_gate.safetensors").string();
  if (!fs::exists(weights)) throw_bad_input(dir, "no imsm_gate.safetensors, which the variant \"" + variant_name(c.variant) + "\" needs");
  const SafetensorsFile file = SafetensorsFile::open(weights);
  // Shapes checked against imsm_config.json before the gate is allocated (a config's sizes are not trusted).
  auto checked = [&](const char* name, const std::vector<int64_t>& shape) -> const TensorView& {
    const TensorView* v = file.find(name);
    if (!v) throw_bad_input(weights, std::string("missing tensor \"") + name + "\"");
    if (v->shape != shape)
      throw_bad_input(weights + ": tensor \"" + name + "\"", "shape " + c10::str(c10::IntArrayRef(v->shape)) +
                                                                 " does not match imsm_config.json, which implies " + c10::str(c10::IntArrayRef(shape)));
    return *v;
  };
  const TensorView& A = checked("imsm.gate_A.weight", {c.rank, c.blocks() * c.hidden_size});  // [r, k·d]
  const TensorView& B = checked("imsm.gate_B.weight", {c.hidden_size, c.rank});              // [d, r]
  auto gate = std::make_unique<ImsmGate>(c, device, dtype, 0);
  torch::NoGradGuard no_grad;
  gate->gate_A.copy_(to_tensor(A, file.mapping(), device, dtype));
  gate->gate_B.copy_(to_tensor(B, file.mapping(), device, dtype));
  return gate;
}

torch::Tensor query_mean(const torch::Tensor& h, const torch::Tensor& query_len) {
  const int64_t T = h.size(1);
  const torch::Tensor positions = torch::arange(T, torch::TensorOptions().dtype(torch::kInt64).device(h.device()));  // [T]
  const torch::Tensor len = query_len.to(h.device()).view({-1, 1});                                                 // [B, 1]
  const torch::Tensor in_query = (positions.view({1, T}) < len).to(h.scalar_type()).unsqueeze(-1);                 // [B, T, 1]
  return masked_mean(h, in_query);                                                                                  // [B, d]
}

torch::Tensor masked_mean(const torch::Tensor& h, const torch::Tensor& weights) {
  return (h * weights).sum(1) / weights.sum(1).clamp_min(1);  // [B, d]; an empty query: 0, not NaN
}

}  // namespace imsm
