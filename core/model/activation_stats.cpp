#include "model/activation_stats.h"

#include <torch/torch.h>

#include <algorithm>

#include "model/linear.h"
#include "model/llama.h"

namespace imsm {
namespace {

// Sums x² per input column over the batch's real tokens, then lets the
// layer compute as it would (through the adapter it had, if any).
class InputSquares : public LinearAdapter {
 public:
  InputSquares(const torch::Tensor* mask, std::shared_ptr<LinearAdapter> inner) : mask_(mask), inner_(std::move(inner)) {}

  torch::Tensor forward(const torch::Tensor& x, const Linear& base, const AdapterRows& rows) override {
    add(x);
    return inner_ ? inner_->forward(x, base, rows) : base.base_forward(x);
  }

  void add(const torch::Tensor& x) {  // x: [B, T, in]
    const torch::Tensor squares = (x.to(torch::kFloat64).square() * mask_->unsqueeze(-1)).sum({0, 1});  // [in]
    sum_ = sum_.defined() ? sum_ + squares : squares;
  }
  const torch::Tensor& sum() const { return sum_; }  // [in] fp64

 private:
  const torch::Tensor* mask_;  // [B, T] fp64: 1 token, 0 padding
  std::shared_ptr<LinearAdapter> inner_;
  torch::Tensor sum_;
};

std::vector<float> floats(const torch::Tensor& sum) {
  const torch::Tensor s = sum.to(torch::kCPU, torch::kFloat32).contiguous();  // [in]
  return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
}

}  // namespace

ImportanceMatrix importance_matrix(LlamaModel& model, const std::vector<std::vector<int32_t>>& rows, int64_t batch_size,
                                   const Hooks& hooks) {
  torch::NoGradGuard no_grad;
  torch::Tensor mask;  // [B, T] of the batch in flight
  std::map<std::string, std::shared_ptr<InputSquares>> observers;
  std::map<Linear*, std::shared_ptr<LinearAdapter>> previous;
  for (auto& [name, linear] : model.linears()) {
    previous[linear] = linear->adapter;
    observers[name + ".weight"] = std::make_shared<InputSquares>(&mask, linear->adapter);
    linear->adapter = observers[name + ".weight"];
  }
  const std::string head = model.config().tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  InputSquares head_inputs(&mask, nullptr);
  ImportanceMatrix out;
  try {
    const int64_t n = static_cast<int64_t>(rows.size());
    for (int64_t begin = 0; begin < n; begin += batch_size) {
      hooks.check_abort("calibration cancelled");
      hooks.progress({"calibrate", begin, n, "importance matrix"});
      const int64_t end = std::min(n, begin + batch_size);
      size_t T = 1;
      for (int64_t i = begin; i < end; ++i) T = std::max(T, rows[static_cast<size_t>(i)].size());
      torch::Tensor ids = torch::zeros({end - begin, static_cast<int64_t>(T)}, torch::kInt64);  // [B, T], right-padded
      torch::Tensor attention = torch::zeros_like(ids);                                          // [B, T]
      for (int64_t i = begin; i < end; ++i) {
        const auto& row = rows[static_cast<size_t>(i)];
        for (size_t t = 0; t < row.size(); ++t) {
          ids[i - begin][static_cast<int64_t>(t)] = row[t];
          attention[i - begin][static_cast<int64_t>(t)] = 1;
        }
      }
      mask = attention.to(model.device(), torch::kFloat64);
      ForwardInput input;
      input.input_ids = ids.to(model.device());
      input.attention_mask = attention.to(model.device());
      head_inputs.add(model.forward_hidden(input));  // [B, T, d]: what the LM head multiplies
      out.tokens += attention.sum().item<int64_t>();
    }
    hooks.progress({"calibrate", n, n, "importance matrix"});
    out.rows = n;
  } catch (...) {
    for (auto& [linear, adapter] : previous) linear->adapter = adapter;
    throw;
  }
  for (auto& [linear, adapter] : previous) linear->adapter = adapter;
  for (const auto& [name, observer] : observers) out.sum_square[name] = floats(observer->sum());
  out.sum_square[head] = floats(head_inputs.sum());
  return out;
}

std::map<std::string, std::vector<float>> importance_means(const ImportanceMatrix& matrix) {
  std::map<std::string, std::vector<float>> out;
  const float count = static_cast<float>(matrix.tokens);
  for (const auto& [name, sums] : matrix.sum_square) {
    std::vector<float>& mean = out[name];
    for (const float s : sums) mean.push_back(count > 0 ? s / count : 1.0f);  // llama-quantize: no tokens, weight 1
  }
  return out;
}

}  // namespace imsm
