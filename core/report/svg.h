// Small self-contained SVG charts for reports: lines (loss curves) and
// grouped bars with error bars (forgetting). Text is XML-escaped. Torch-free.
#pragma once
#include <string>
#include <vector>

namespace imsm::report {

std::string xml_escape(const std::string& text);  // & < > " '
std::string palette(size_t i);                     // a distinct colour per series

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::string color;  // "" = palette
};

std::string line_chart(const std::vector<Series>& series, const std::string& title, const std::string& x_label,
                       const std::string& y_label, int width = 720, int height = 320);

struct BarGroup {
  std::string label;              // a category on the x axis (a benchmark)
  std::vector<double> values;     // one per series (NaN: missing, drawn as "n/a")
  std::vector<double> errors;     // ± (same length, or empty)
};

std::string bar_chart(const std::vector<BarGroup>& groups, const std::vector<std::string>& series_labels, const std::string& title,
                      const std::string& y_label, int width = 720, int height = 320);

}  // namespace imsm::report
