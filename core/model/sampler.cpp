#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace imsm {

int32_t Sampler::next(const float* logits, int64_t vocab) {
  if (options_.temperature <= 0.0) {
    // Greedy: the first maximum, as torch.argmax.
    return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  }
  // Candidates sorted by logit, highest first (ties: lower id first).
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const size_t keep_k = options_.top_k > 0 ? std::min<size_t>(options_.top_k, order.size()) : order.size();
  std::partial_sort(order.begin(), order.begin() + keep_k, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  order.resize(keep_k);
  // Softmax of logits / temperature over the candidates.
  std::vector<double> probs(order.size());
  const double top = logits[order[0]] / options_.temperature;
  double sum = 0;
  for (size_t i = 0; i < order.size(); ++i) sum += probs[i] = std::exp(logits[order[i]] / options_.temperature - top);
  for (auto& p : probs) p /= sum;
  // Top-p: the smallest prefix whose mass reaches p (at least one token).
  if (options_.top_p < 1.0) {
    double mass = 0;
    size_t n = 0;
    while (n < probs.size() && (n == 0 || mass < options_.top_p)) mass += probs[n++];
    probs.resize(n);
    order.resize(n);
    for (auto& p : probs) p /= mass;
  }
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double r = uniform(rng_), acc = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    acc += probs[i];
    if (r < acc) return order[i];
  }
  return order.back();
}

}  // namespace imsm
