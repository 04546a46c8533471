// The one colour map of the gate g, IMSM's weight of the original model's
// memory against the fine-tuned one's: g = 0 orange (the fine-tuned model),
// g = ½ white (both alike), g = 1 blue (the original model), linear between.
// The ends are Tableau 10's orange #f28e2b and blue #4e79a7, the report's
// series colours. The report, the inspector and the gate scope all colour
// gates with it; text is set on the lighter form, gate_text_background.
// Torch-free, Qt-free.
#pragma once
#include <string>

namespace imsm::report {

struct Rgb {
  int r = 0, g = 0, b = 0;  // 0..255
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

// g clamped to [0, 1]; NaN (no gate) is ½, white.
Rgb gate_rgb(double g);
// gate_rgb at 55% over white: a background dark text stays readable on.
Rgb gate_text_background(double g);
// "#rrggbb".
std::string hex(const Rgb& c);

}  // namespace imsm::report
