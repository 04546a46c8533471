// IEEE 754 binary16 <-> float, without LibTorch (the workspace stores gate
// vectors as float16 blobs). Rounding: to nearest, ties to even, as the
// hardware conversion (and torch's .half()) does.
#pragma once
#include <cstdint>
#include <vector>

namespace imsm {

uint16_t float_to_half(float value);
float half_to_float(uint16_t bits);

// Little-endian float16 bytes of `values`, and back.
std::vector<uint8_t> to_half_bytes(const std::vector<float>& values);
std::vector<float> from_half_bytes(const std::vector<uint8_t>& bytes);

}  // namespace imsm
