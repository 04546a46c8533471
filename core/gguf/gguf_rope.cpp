#include "gguf/gguf_rope.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "util/error.h"

namespace imsm {
namespace {

constexpr double kLowFreqFactor = 1.0, kHighFreqFactor = 4.0;  // Meta's, in every Llama 3.x config
constexpr int64_t kDefaultOriginalContext = 8192;

// 2π / (1 / theta^(2i / dim)) with the frequency rounded to fp32, as the converter's torch.float32 arange does.
double wavelength(int64_t i, int64_t head_dim, double rope_theta) {
  const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
  const float freq = 1.0f / std::pow(static_cast<float>(rope_theta), exponent);
  return 2 * M_PI / static_cast<double>(freq);
}

bool matches(const std::vector<float>& divisors, const std::vector<double>& want) {
  for (size_t i = 0; i < divisors.size(); ++i)
    // fp32 storage and the converter's fp32 pow: a few ulps of the divisor; a wrong
    // original context length (by 1 in 8192) moves a blended divisor by > 1e-4 of it.
    if (std::abs(static_cast<double>(divisors[i]) - want[i]) > 1e-5 * want[i]) return false;
  return true;
}

}  // namespace

std::vector<double> llama3_frequency_divisors(const RopeScaling& s, int64_t head_dim, double rope_theta) {
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_len / s.low_freq_factor, high_freq_wavelen = old_len / s.high_freq_factor;
  std::vector<double> out;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double wavelen = wavelength(i, head_dim, rope_theta);
    if (wavelen < high_freq_wavelen) {
      out.push_back(1.0);
    } else if (wavelen > low_freq_wavelen) {
      out.push_back(s.factor);
    } else {
      const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      out.push_back(1.0 / ((1 - smooth) / s.factor + smooth));
    }
  }
  return out;
}

RopeScaling llama3_scaling_from_divisors(const std::vector<float>& divisors, int64_t head_dim, double rope_theta,
                                         const std::string& where) {
  if (head_dim <= 0 || static_cast<int64_t>(divisors.size()) != head_dim / 2)
    throw_bad_input(where, "holds " + std::to_string(divisors.size()) + " RoPE frequency divisors (rope_freqs.weight); head_dim " +
                               std::to_string(head_dim) + " needs " + std::to_string(head_dim / 2));
  for (const float d : divisors)
    if (!std::isfinite(d) || d < 1.0f) throw_bad_input(where, "rope_freqs.weight holds " + std::to_string(d) + ": a divisor must be finite and >= 1");
  RopeScaling s;
  const double factor = *std::max_element(divisors.begin(), divisors.end());
  if (factor == 1.0) return s;  // no frequency divided: no scaling
  s.type = "llama3";
  s.factor = factor;
  s.low_freq_factor = kLowFreqFactor;
  s.high_freq_factor = kHighFreqFactor;
  // Each blended divisor r gives smooth = (1/r - 1/factor) / (1 - 1/factor) = (old / wavelen - low) / (high - low).
  // With none blended, any length below the shortest divided wavelength whose quarter passes the longest
  // undivided one gives the same divisors: the largest such, or Meta's 8192.
  std::set<int64_t> candidates = {kDefaultOriginalContext};
  double shortest_divided = 1e300;
  for (size_t i = 0; i < divisors.size(); ++i) {
    const double r = divisors[i];
    if (r == factor) shortest_divided = std::min(shortest_divided, wavelength(static_cast<int64_t>(i), head_dim, rope_theta));
    if (r == 1.0 || r == factor) continue;
    const double smooth = (1 / r - 1 / factor) / (1 - 1 / factor);
    const double old_len = wavelength(static_cast<int64_t>(i), head_dim, rope_theta) * (smooth * (kHighFreqFactor - kLowFreqFactor) + kLowFreqFactor);
    if (old_len >= 1 && old_len < 1e12) candidates.insert(std::llround(old_len));
  }
  if (shortest_divided < 1e12) candidates.insert(static_cast<int64_t>(std::ceil(shortest_divided)) - 1);
  for (const int64_t old_len : candidates) {
    s.original_max_position_embeddings = old_len;
    if (matches(divisors, llama3_frequency_divisors(s, head_dim, rope_theta))) return s;
  }
  throw_bad_input(where, "rope_freqs.weight holds RoPE frequency divisors (largest " + std::to_string(factor) +
                             ") that follow no Llama 3 scaling (low_freq_factor 1, high_freq_factor 4, any original context "
                             "length): the import cannot write their rope_scaling");
}

}  // namespace imsm
