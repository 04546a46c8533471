#include "report/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace imsm::report {

namespace {
std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.1f", v);
  return b;
}
std::string tick(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), std::fabs(v) >= 100 ? "%.0f" : std::fabs(v) >= 1 ? "%.2f" : "%.3f", v);
  return b;
}
std::string text(double x, double y, const std::string& s, const char* anchor = "middle", int size = 11) {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" font-size=\"" + std::to_string(size) + "\">" +
         xml_escape(s) + "</text>";
}
std::string svg_line(double x1, double y1, double x2, double y2, const std::string& stroke, const std::string& extra = "") {
  return "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) + "\" stroke=\"" + stroke + "\"" + extra + "/>";
}
struct Frame {
  double left = 60, right = 160, top = 30, bottom = 45;  // margins; the legend sits on the right
  int width, height;
  double x0() const { return left; }
  double x1() const { return width - right; }
  double y0() const { return height - bottom; }
  double y1() const { return top; }
};
std::string open_svg(const Frame& f, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(f.width) + "\" height=\"" + std::to_string(f.height) +
         "\" viewBox=\"0 0 " + std::to_string(f.width) + " " + std::to_string(f.height) + "\" font-family=\"sans-serif\">" +
         text(f.width / 2.0, 18, title, "middle", 13);
}
std::string legend(const Frame& f, const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = f.top + 14.0 * static_cast<double>(i);
    out += "<rect x=\"" + num(f.x1() + 12) + "\" y=\"" + num(y) + "\" width=\"10\" height=\"10\" fill=\"" + palette(i) + "\"/>";
    out += text(f.x1() + 26, y + 9, labels[i], "start", 11);
  }
  return out;
}
// A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about five intervals; lo and hi widen to multiples of it.
double nice_range(double& lo, double& hi) {
  const double rough = (hi - lo) / 5.0, power = std::pow(10.0, std::floor(std::log10(rough))), n = rough / power;
  const double step = power * (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10);
  lo = std::floor(lo / step + 1e-9) * step;
  hi = std::ceil(hi / step - 1e-9) * step;
  return step;
}
// As many decimals as the step needs (0.25 -> 2, 0.5 -> 1, 20 -> 0).
std::string step_tick(double v, double step) {
  int decimals = 0;
  while (decimals < 8 && std::fabs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6) ++decimals;
  if (std::fabs(v) < step * 1e-6) v = 0;  // no "-0.00"
  char b[32];
  std::snprintf(b, sizeof(b), "%.*f", decimals, v);
  return b;
}
// lo, hi: widened to round values (see nice_range); the caller maps its data with the widened ones.
std::string y_axis(const Frame& f, double& lo, double& hi, const std::string& label) {
  const double step = nice_range(lo, hi);
  std::string out = svg_line(f.x0(), f.y0(), f.x0(), f.y1(), "#444");
  const int ticks = static_cast<int>(std::lround((hi - lo) / step));
  for (int i = 0; i <= ticks; ++i) {
    const double v = lo + step * i, y = f.y0() - (f.y0() - f.y1()) * i / static_cast<double>(ticks);
    out += svg_line(f.x0() - 4, y, f.x1(), y, "#ddd");
    out += text(f.x0() - 6, y + 4, step_tick(v, step), "end", 10);
  }
  out += "<text x=\"14\" y=\"" + num((f.y0() + f.y1()) / 2) + "\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 14 " +
         num((f.y0() + f.y1()) / 2) + ")\">" + xml_escape(label) + "</text>";
  return out;
}
}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += "\xEF\xBF\xBD";  // not allowed in XML
        else out += c;
    }
  }
  return out;
}

std::string palette(size_t i) {
  static const char* const colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return colors[i % 10];
}

std::string line_chart(const std::vector<Series>& series, const std::string& title, const std::string& x_label, const std::string& y_label,
                       int width, int height) {
  Frame f;
  f.width = width;
  f.height = height;
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      xlo = std::min(xlo, s.x[i]), xhi = std::max(xhi, s.x[i]), ylo = std::min(ylo, s.y[i]), yhi = std::max(yhi, s.y[i]);
    }
  std::string out = open_svg(f, title);
  if (!std::isfinite(xlo)) return out + text(width / 2.0, height / 2.0, "no data") + "</svg>";
  if (xhi == xlo) xhi = xlo + 1;
  if (yhi == ylo) yhi = ylo + 1;
  out += y_axis(f, ylo, yhi, y_label);
  out += svg_line(f.x0(), f.y0(), f.x1(), f.y0(), "#444");
  out += text(f.x0(), f.y0() + 16, tick(xlo)) + text(f.x1(), f.y0() + 16, tick(xhi)) + text((f.x0() + f.x1()) / 2, f.y0() + 32, x_label);
  std::vector<std::string> labels;
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    std::string points;
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      const double px = f.x0() + (s.x[i] - xlo) / (xhi - xlo) * (f.x1() - f.x0());
      const double py = f.y0() - (s.y[i] - ylo) / (yhi - ylo) * (f.y0() - f.y1());
      points += num(px) + "," + num(py) + " ";
    }
    out += "<polyline fill=\"none\" stroke-width=\"1.5\" stroke=\"" + (s.color.empty() ? palette(k) : s.color) + "\" points=\"" + points + "\"/>";
    labels.push_back(s.label);
  }
  return out + legend(f, labels) + "</svg>";
}

std::string bar_chart(const std::vector<BarGroup>& groups, const std::vector<std::string>& series_labels, const std::string& title,
                      const std::string& y_label, int width, int height) {
  Frame f;
  f.width = width;
  f.height = height;
  double lo = 0, hi = 0;
  for (const auto& g : groups)
    for (size_t i = 0; i < g.values.size(); ++i) {
      const double e = i < g.errors.size() ? g.errors[i] : 0;
      lo = std::min(lo, g.values[i] - e), hi = std::max(hi, g.values[i] + e);
    }
  if (hi == lo) hi = lo + 1;
  std::string out = open_svg(f, title) + y_axis(f, lo, hi, y_label);
  auto y_of = [&](double v) { return f.y0() - (v - lo) / (hi - lo) * (f.y0() - f.y1()); };
  out += svg_line(f.x0(), y_of(0), f.x1(), y_of(0), "#444");
  const double group_w = (f.x1() - f.x0()) / static_cast<double>(std::max<size_t>(1, groups.size()));
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& grp = groups[g];
    const double bar_w = group_w * 0.8 / static_cast<double>(std::max<size_t>(1, grp.values.size()));
    for (size_t i = 0; i < grp.values.size(); ++i) {
      const double x = f.x0() + group_w * static_cast<double>(g) + group_w * 0.1 + bar_w * static_cast<double>(i);
      if (std::isnan(grp.values[i])) {  // missing: no bar, not a bar of 0
        out += text(x + bar_w * 0.45, y_of(0) - 4, "n/a");
        continue;
      }
      const double y = std::min(y_of(grp.values[i]), y_of(0)), h = std::fabs(y_of(grp.values[i]) - y_of(0));
      out += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(bar_w * 0.9) + "\" height=\"" + num(h) + "\" fill=\"" +
             palette(i) + "\"><title>" + xml_escape(grp.label + " " + (i < series_labels.size() ? series_labels[i] : "") + ": " + tick(grp.values[i])) +
             "</title></rect>";
      if (i < grp.errors.size() && grp.errors[i] > 0) {
        const double cx = x + bar_w * 0.45;
        out += svg_line(cx, y_of(grp.values[i] - grp.errors[i]), cx, y_of(grp.values[i] + grp.errors[i]), "#222");
      }
    }
    out += text(f.x0() + group_w * (static_cast<double>(g) + 0.5), f.y0() + 16, grp.label);
  }
  return out + legend(f, series_labels) + "</svg>";
}

namespace {

// A scatter chart's data-to-pixel mapping.
struct Plane {
  Frame f;
  double xlo, xhi, ylo, yhi;
  double X(double v) const { return f.x0() + (v - xlo) / (xhi - xlo) * (f.x1() - f.x0()); }
  double Y(double v) const { return f.y0() - (v - ylo) / (yhi - ylo) * (f.y0() - f.y1()); }
};

// Each point with its intervals both ways, its tooltip, and its label unless
// it would overlap one already placed (the tooltip has it).
std::string scatter_points(const ScatterChart& c, const Plane& pl) {
  std::string out;
  std::vector<std::pair<double, double>> labelled;  // where labels went
  for (const auto& p : c.points) {
    const std::string color = palette(p.series);
    out += svg_line(pl.X(p.x_low), pl.Y(p.y), pl.X(p.x_high), pl.Y(p.y), color, " stroke-width=\"1\"");
    out += svg_line(pl.X(p.x), pl.Y(p.y_low), pl.X(p.x), pl.Y(p.y_high), color, " stroke-width=\"1\"");
    out += "<circle cx=\"" + num(pl.X(p.x)) + "\" cy=\"" + num(pl.Y(p.y)) + "\" r=\"" + (p.small ? "3" : "5") + "\" fill=\"" + color +
           "\" stroke=\"#fff\"><title>" + xml_escape(p.tooltip.empty() ? p.label : p.tooltip) + "</title></circle>";
    const bool crowded = std::any_of(labelled.begin(), labelled.end(), [&](const auto& at) {
      return std::fabs(at.first - pl.X(p.x)) < 40 && std::fabs(at.second - pl.Y(p.y)) < 11;
    });
    if (!p.label.empty() && !crowded) {
      out += text(pl.X(p.x) + 7, pl.Y(p.y) - 6, p.label, "start", p.small ? 9 : 10);
      labelled.emplace_back(pl.X(p.x), pl.Y(p.y));
    }
  }
  return out;
}

// The x axis with its ticks and label, and the dashed reference lines x = 0 and y = 0.
std::string scatter_axes(const ScatterChart& c, const Plane& pl, double xstep) {
  const Frame& f = pl.f;
  std::string out = svg_line(f.x0(), f.y0(), f.x1(), f.y0(), "#444");
  const int xticks = static_cast<int>(std::lround((pl.xhi - pl.xlo) / xstep));
  for (int i = 0; i <= xticks; ++i) {
    const double v = pl.xlo + xstep * i;
    out += svg_line(pl.X(v), f.y0(), pl.X(v), f.y0() + 4, "#444") + text(pl.X(v), f.y0() + 16, step_tick(v, xstep), "middle", 10);
  }
  out += text((f.x0() + f.x1()) / 2, f.y0() + 34, c.x_label);
  out += svg_line(pl.X(0), f.y0(), pl.X(0), f.y1(), "#888", " stroke-dasharray=\"4 3\"") +
         svg_line(f.x0(), pl.Y(0), f.x1(), pl.Y(0), "#888", " stroke-dasharray=\"4 3\"");
  return out;
}

}  // namespace

std::string scatter_chart(const ScatterChart& c, int width, int height) {
  Frame f;
  f.width = width;
  f.height = height;
  double xlo = 0, xhi = 0, ylo = 0, yhi = 0;  // 0 always in view: the reference lines
  for (const auto& p : c.points) {
    xlo = std::min({xlo, p.x, p.x_low}), xhi = std::max({xhi, p.x, p.x_high});
    ylo = std::min({ylo, p.y, p.y_low}), yhi = std::max({yhi, p.y, p.y_high});
  }
  std::string out = open_svg(f, c.title);
  if (c.points.empty()) return out + text(width / 2.0, height / 2.0, "no data") + "</svg>";
  if (xhi == xlo) xhi = xlo + 1;
  if (yhi == ylo) yhi = ylo + 1;
  const double xpad = (xhi - xlo) * 0.04, ypad = (yhi - ylo) * 0.04;  // points on the data's edge clear of the frame
  xlo -= xpad, xhi += xpad, ylo -= ypad, yhi += ypad;
  out += y_axis(f, ylo, yhi, c.y_label);  // widens [ylo, yhi] to its ticks
  const double xstep = nice_range(xlo, xhi);  // and [xlo, xhi] to its
  const Plane pl{f, xlo, xhi, ylo, yhi};
  out += scatter_axes(c, pl, xstep);
  auto polyline = [&](const std::vector<size_t>& ids, const std::string& stroke, const std::string& extra) {
    std::string pts;
    for (size_t i : ids) pts += num(pl.X(c.points[i].x)) + "," + num(pl.Y(c.points[i].y)) + " ";
    return "<polyline fill=\"none\" stroke=\"" + stroke + "\" points=\"" + pts + "\"" + extra + "/>";
  };
  if (c.front.size() > 1) out += polyline(c.front, "#333", " stroke-width=\"1.2\" stroke-dasharray=\"6 4\"");
  for (const auto& curve : c.curves)
    if (curve.size() > 1) out += polyline(curve, palette(c.points[curve.front()].series), " stroke-width=\"1.5\"");
  out += scatter_points(c, pl);
  std::vector<std::string> labels = c.series;
  out += legend(f, labels);
  if (c.front.size() > 1) {
    const double y = f.top + 14.0 * static_cast<double>(labels.size());
    out += svg_line(f.x1() + 12, y + 5, f.x1() + 22, y + 5, "#333", " stroke-dasharray=\"3 2\"") + text(f.x1() + 26, y + 9, c.front_label, "start", 11);
  }
  return out + "</svg>";
}

}  // namespace imsm::report
