#include "report/gate_colour.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace imsm::report {

namespace {
constexpr Rgb kFineTuned{0xf2, 0x8e, 0x2b}, kOriginal{0x4e, 0x79, 0xa7}, kWhite{255, 255, 255};
constexpr double kTextOpacity = 0.55;

// a + (b - a)·t per channel, rounded.
Rgb mix(const Rgb& a, const Rgb& b, double t) {
  const auto channel = [t](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * t)); };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}
}  // namespace

Rgb gate_rgb(double g) {
  if (std::isnan(g)) g = 0.5;
  g = std::min(1.0, std::max(0.0, g));
  return g >= 0.5 ? mix(kWhite, kOriginal, (g - 0.5) * 2) : mix(kWhite, kFineTuned, (0.5 - g) * 2);
}

Rgb gate_text_background(double g) { return mix(kWhite, gate_rgb(g), kTextOpacity); }

std::string hex(const Rgb& c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

}  // namespace imsm::report
