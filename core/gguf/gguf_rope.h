// Llama 3's RoPE scaling back from llama.cpp's form. convert_hf_to_gguf.py
// writes no rope_scaling metadata for rope_type "llama3": it turns
// {factor, low_freq_factor, high_freq_factor, original_max_position_embeddings}
// into one tensor, rope_freqs.weight [head_dim / 2], the divisor of each
// rotary frequency (1 for high frequencies, factor for low ones, a smooth
// blend between). This file finds the rope_scaling that gives those divisors.
// Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/hf_config.h"

namespace imsm {

// The Llama 3 divisors of the head_dim / 2 frequencies 1 / theta^(2i / head_dim),
// computed as convert_hf_to_gguf.py does.
std::vector<double> llama3_frequency_divisors(const RopeScaling& scaling, int64_t head_dim, double rope_theta);

// The rope_scaling whose divisors equal `divisors` (within fp32 rounding):
// type "none" when all are 1, else "llama3" with factor = the largest divisor,
// low_freq_factor 1 and high_freq_factor 4 (every Llama 3.x release) and the
// original context length that the blended divisors imply (8192 when none
// is blended). BadInput naming `where` when the divisors are malformed or
// follow no such scaling.
RopeScaling llama3_scaling_from_divisors(const std::vector<float>& divisors, int64_t head_dim, double rope_theta,
                                         const std::string& where);

}  // namespace imsm
