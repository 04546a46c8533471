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

// A scatter with error bars (intervals, not ±), lines through chosen points,
// a dashed front, and dashed lines at x = 0 and y = 0.
struct ScatterPoint {
  double x = 0, x_low = 0, x_high = 0, y = 0, y_low = 0, y_high = 0;
  size_t series = 0;       // its colour and legend entry
  std::string label;       // written beside the point ("" none)
  bool small = false;      // a lesser point (a curve's inner points)
  std::string tooltip;
};
struct ScatterChart {
  std::string title, x_label, y_label;
  std::vector<std::string> series;            // legend labels
  std::vector<ScatterPoint> points;
  std::vector<std::vector<size_t>> curves;    // each: points joined in this order, in their series' colour
  std::vector<size_t> front;                  // points joined by a dashed dark line ("front" in the legend)
  std::string front_label = "Pareto front";
};
std::string scatter_chart(const ScatterChart& chart, int width = 760, int height = 480);

}  // namespace imsm::report
