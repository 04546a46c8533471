#include "train/activation_stats.h"

#include <torch/torch.h>

#include <algorithm>

#include "model/linear.h"
#include "model/llama.h"
#include "train/batch.h"

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

// Puts an observer in front of every linear's adapter; the destructor puts
// the adapters back, however the measurement ends.
class Observed {
 public:
  Observed(LlamaModel& model, const torch::Tensor* mask) {
    for (auto& [name, linear] : model.linears()) {
      previous_[linear] = linear->adapter;
      observers_[name + ".weight"] = std::make_shared<InputSquares>(mask, linear->adapter);
      linear->adapter = observers_[name + ".weight"];
    }
  }
  ~Observed() {
    for (auto& [linear, adapter] : previous_) linear->adapter = adapter;
  }
  Observed(const Observed&) = delete;
  Observed& operator=(const Observed&) = delete;
  const std::map<std::string, std::shared_ptr<InputSquares>>& observers() const { return observers_; }

 private:
  std::map<std::string, std::shared_ptr<InputSquares>> observers_;
  std::map<Linear*, std::shared_ptr<LinearAdapter>> previous_;
};

}  // namespace

ImportanceMatrix importance_matrix(LlamaModel& model, const std::vector<EncodedExample>& rows, int64_t batch_size,
                                   const Hooks& hooks) {
  torch::NoGradGuard no_grad;
  torch::Tensor mask;  // [B, T] fp64 of the batch in flight: 1 token, 0 padding
  const Observed observed(model, &mask);
  InputSquares head_inputs(&mask, nullptr);
  ImportanceMatrix out;
  const int64_t n = static_cast<int64_t>(rows.size());
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    hooks.check_abort("calibration cancelled");
    hooks.progress({"calibrate", begin, n, "importance matrix"});
    std::vector<const EncodedExample*> batch;
    for (int64_t i = begin; i < std::min(n, begin + batch_size); ++i) batch.push_back(&rows[static_cast<size_t>(i)]);
    const TrainBatch b = collate(batch, model.device());
    mask = b.mask.to(torch::kFloat64);
    ForwardInput input;
    input.input_ids = b.ids;          // [B, T]
    input.attention_mask = b.mask;    // [B, T]
    head_inputs.add(model.forward_hidden(input));  // [B, T, d]: what the LM head multiplies
    out.tokens += b.tokens;
  }
  hooks.progress({"calibrate", n, n, "importance matrix"});
  out.rows = n;
  for (const auto& [name, observer] : observed.observers()) out.sum_square[name] = floats(observer->sum());
  const std::string head = model.config().tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
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
