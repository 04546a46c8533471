#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "imsm/siamese.h"
#include "util/error.h"

namespace imsm {

double scheduled_lr(const TrainOptions& o, int64_t step, int64_t total) {
  const int64_t warmup = static_cast<int64_t>(std::ceil(o.warmup_ratio * static_cast<double>(total)));
  if (step < warmup) return o.learning_rate * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (o.lr_schedule == "none") return o.learning_rate;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  if (o.lr_schedule == "linear") return o.learning_rate * std::max(0.0, 1.0 - progress);
  return o.learning_rate * 0.5 * (1.0 + std::cos(M_PI * progress));  // cosine to zero (transformers' schedule)
}

TrainBatch collate(const std::vector<const EncodedExample*>& examples, torch::Device device) {
  const int64_t B = static_cast<int64_t>(examples.size());
  int64_t T = 0;
  for (const auto* e : examples) T = std::max<int64_t>(T, static_cast<int64_t>(e->ids.size()));
  TrainBatch b;
  b.ids = torch::zeros({B, T}, torch::kInt64);               // [B, T]
  b.mask = torch::zeros({B, T}, torch::kInt64);              // [B, T]
  b.labels = torch::full({B, T}, -100, torch::kInt64);       // [B, T]
  b.query_len = torch::zeros({B}, torch::kInt64);            // [B]
  auto ids = b.ids.accessor<int64_t, 2>(), mask = b.mask.accessor<int64_t, 2>(), labels = b.labels.accessor<int64_t, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = *examples[r];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      ids[r][t] = e.ids[t];
      mask[r][t] = 1;
      labels[r][t] = e.labels[t];
    }
    b.query_len[r] = e.query_len;
    b.tokens += static_cast<int64_t>(e.ids.size());
  }
  b.ids = b.ids.to(device);
  b.mask = b.mask.to(device);
  b.labels = b.labels.to(device);
  return b;
}

torch::Tensor causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t V = logits.size(-1);
  const torch::Tensor predicted = logits.narrow(1, 0, logits.size(1) - 1).reshape({-1, V});  // [B*(T-1), V]
  const torch::Tensor target = labels.narrow(1, 1, labels.size(1) - 1).reshape({-1});        // [B*(T-1)]
  const auto acc = logits.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;  // at least fp32
  return torch::nn::functional::cross_entropy(predicted.to(acc), target,
                                              torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

TrainOutcome train_siamese(LlamaModel& model, PeftAdapters& adapters, ImsmGate* gate, GateVariant variant,
                           const std::vector<EncodedExample>& data, const TrainOptions& o,
                           const std::function<void(const StepReport&)>& on_step, const std::function<bool()>& should_abort) {
  using Clock = std::chrono::steady_clock;
  if (data.empty()) throw_bad_input("dataset", "no training examples");
  if (o.batch_size <= 0 || o.accumulation_steps <= 0 || o.num_epochs <= 0)
    throw_bad_input("config", "batch_size, accumulation_steps and num_epochs must be positive");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) throw_bad_input("learning_rate", "must be a positive number");
  torch::manual_seed(o.seed);  // dropout masks
  std::vector<torch::Tensor> params = adapters.parameters();
  if (gate) for (const auto& p : gate->parameters()) params.push_back(p);
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
  adapters.set_training(true);
  if (gate) gate->set_training(true);

  const int64_t n = static_cast<int64_t>(data.size());
  const int64_t micro_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const int64_t steps_per_epoch = (micro_per_epoch + o.accumulation_steps - 1) / o.accumulation_steps;
  const int64_t total = steps_per_epoch * o.num_epochs;
  TrainOutcome outcome;
  outcome.status = "finished";
  const auto start = Clock::now();
  int64_t step = 0, tokens_seen = 0;
  for (int64_t epoch = 0; epoch < o.num_epochs && outcome.status == "finished"; ++epoch) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.seed + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t micro = 0; micro < micro_per_epoch && outcome.status == "finished";) {
      if (should_abort && should_abort()) {
        outcome.status = "cancelled";
        break;
      }
      const double lr = scheduled_lr(o, step, total);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      optimizer.zero_grad();
      double step_loss = 0;
      const int64_t in_step = std::min(o.accumulation_steps, micro_per_epoch - micro);
      for (int64_t a = 0; a < in_step; ++a, ++micro) {
        std::vector<const EncodedExample*> rows;
        for (int64_t i = micro * o.batch_size; i < std::min(n, (micro + 1) * o.batch_size); ++i) rows.push_back(&data[order[i]]);
        const TrainBatch batch = collate(rows, model.device());
        const SiameseOutput out = siamese_forward(model, gate, variant, {batch.ids, batch.mask, batch.query_len});
        const torch::Tensor loss = causal_lm_loss(out.logits, batch.labels);          // scalar
        (loss / static_cast<double>(in_step)).backward();
        step_loss += loss.item<double>() / static_cast<double>(in_step);
        tokens_seen += batch.tokens;
      }
      if (!std::isfinite(step_loss)) {
        outcome.status = "diverged";
        outcome.losses.push_back(step_loss);
        break;
      }
      double grad_norm = 0;
      if (o.max_grad_norm > 0) grad_norm = torch::nn::utils::clip_grad_norm_(params, o.max_grad_norm);
      else {
        for (const auto& p : params)
          if (p.grad().defined()) grad_norm += p.grad().pow(2).sum().item<double>();
        grad_norm = std::sqrt(grad_norm);
      }
      optimizer.step();
      ++step;
      outcome.losses.push_back(step_loss);
      if (on_step) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        on_step({step, total, epoch, step_loss, lr, grad_norm, tokens_seen / std::max(elapsed, 1e-9),
                 elapsed / static_cast<double>(step) * static_cast<double>(total - step)});
      }
    }
  }
  adapters.set_training(false);
  if (gate) gate->set_training(false);
  outcome.steps = step;
  return outcome;
}

}  // namespace imsm
