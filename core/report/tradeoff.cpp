#include "report/tradeoff.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "report/item_scores.h"
#include "report/svg.h"
#include "util/error.h"
#include "util/table.h"

namespace imsm::report {

namespace {

// The configuration an α row was evaluated from: its keys without the mix.
nlohmann::json without_mix(nlohmann::json config) {
  if (config.is_object()) config.erase("eval_mix_alpha");
  return config;
}

std::string method_without_mix(const std::string& method) { return method.substr(0, method.find(" α=")); }

// Marks the points that no other point, nor the origin (the base model), beats on both axes.
void mark_front(std::vector<TradeoffPoint>& points) {
  auto beats = [](double qx, double qy, double px, double py) { return qx >= px && qy >= py && (qx > px || qy > py); };
  for (auto& p : points) {
    const double x = p.gain.value, y = p.retention.value;
    p.pareto = !beats(0, 0, x, y) && std::none_of(points.begin(), points.end(), [&](const TradeoffPoint& q) {
      return beats(q.gain.value, q.retention.value, x, y);
    });
  }
}

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.6g", v);
  return b;
}

// The target's column (the first without a name), and the columns scored per
// example besides it: the retention benchmarks. Says in why_empty when there is nothing to plot.
size_t choose_columns(const ResultTable& t, const std::string& target, Tradeoff& out, std::vector<size_t>& kept) {
  size_t target_column = 0;
  if (!target.empty()) {
    const auto it = std::find_if(t.columns.begin(), t.columns.end(), [&](const Column& c) { return c.benchmark == target; });
    if (it == t.columns.end()) throw_bad_input("target", "\"" + target + "\" is not a benchmark of these evaluations");
    target_column = static_cast<size_t>(it - t.columns.begin());
  }
  out.target = t.columns[target_column].benchmark;
  out.target_metric = t.columns[target_column].metric;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (c != target_column && is_item_metric(t.columns[c].metric)) {
      kept.push_back(c);
      out.retention.push_back(t.columns[c].benchmark);
      out.retention_metrics.push_back(t.columns[c].metric);
    }
  if (!is_item_metric(out.target_metric)) out.why_empty = "the target " + out.target + " is scored by " + out.target_metric + ", not per example";
  else if (kept.empty()) out.why_empty = "no benchmark besides " + out.target + " to measure retention on";
  return target_column;
}

// Row r against its base model: the target's gain and the mean retention,
// each with its bootstrap interval. None when a benchmark is missing for
// either, or their predictions are not comparable.
std::optional<TradeoffPoint> point_of(const ResultTable& t, ItemScores& items, size_t r, size_t target_column,
                                      const std::vector<size_t>& kept, const Tradeoff& out, const BootstrapOptions& options) {
  const auto base = t.base_of(r);
  const Cell* x = t.cell(r, target_column);
  if (!base || !x || !t.cell(*base, target_column)) return std::nullopt;
  std::vector<SeedScores> row_scores, base_scores;
  for (size_t c : kept) {
    const Cell *a = t.cell(r, c), *b = t.cell(*base, c);
    if (!a || !b) return std::nullopt;
    row_scores.push_back(items.of(*a, t.columns[c]));
    base_scores.push_back(items.of(*b, t.columns[c]));
  }
  TradeoffPoint p;
  p.row = r;
  p.name = t.rows[r].name;
  p.method = method_without_mix(t.rows[r].method);
  p.seeds = x->n;
  if (t.rows[r].config.is_object() && t.rows[r].config.contains("eval_mix_alpha")) p.alpha = t.rows[r].config["eval_mix_alpha"].get<double>();
  try {
    const Column& target = t.columns[target_column];
    p.gain = compare_scores(out.target_metric, items.of(*x, target), items.of(*t.cell(*base, target_column), target), options);
    p.retention = compare_mean(out.retention_metrics, row_scores, base_scores, options);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::BadInput) throw;  // predictions of other lengths: not comparable, left out
    return std::nullopt;
  }
  return p;
}

// The α-sweeps: an adapter's row (α = 0) and the rows of its mixes, by α.
std::vector<TradeoffCurve> alpha_curves(const ResultTable& t, const std::vector<TradeoffPoint>& points) {
  auto setting = [&](const Row& row) { return row.model + "\n" + without_mix(row.config).dump(); };
  std::map<std::string, TradeoffCurve> curves;
  for (size_t i = 0; i < points.size(); ++i)
    if (points[i].alpha >= 0) curves[setting(t.rows[points[i].row])].points.push_back(i);
  std::vector<TradeoffCurve> out;
  for (auto& [key, curve] : curves) {
    for (size_t i = 0; i < points.size(); ++i) {
      const Row& row = t.rows[points[i].row];
      if (points[i].alpha < 0 && setting(row) == key) {
        curve.points.push_back(i);
        curve.name = row.name;
      }
    }
    std::sort(curve.points.begin(), curve.points.end(), [&](size_t a, size_t b) {
      return std::max(0.0, points[a].alpha) < std::max(0.0, points[b].alpha);
    });
    if (curve.name.empty()) curve.name = method_without_mix(t.rows[points[curve.points.front()].row].name);
    out.push_back(std::move(curve));
  }
  return out;
}

}  // namespace

Tradeoff tradeoff(const store::Workspace& ws, const ResultTable& t, const std::string& target, const BootstrapOptions& options) {
  Tradeoff out;
  if (t.columns.empty()) {
    out.why_empty = "no evaluations";
    return out;
  }
  std::vector<size_t> kept;
  const size_t target_column = choose_columns(t, target, out, kept);
  if (!out.why_empty.empty()) return out;
  ItemScores items(ws);
  for (size_t r = 0; r < t.rows.size(); ++r)
    if (auto p = point_of(t, items, r, target_column, kept, out, options)) out.points.push_back(std::move(*p));
  out.curves = alpha_curves(t, out.points);
  mark_front(out.points);
  if (out.points.empty()) out.why_empty = "no trained configuration with its base model evaluated on every benchmark";
  return out;
}

std::string tradeoff_csv(const Tradeoff& t) {
  std::string s = "name,method,alpha,seeds,target,gain,gain_low,gain_high,retention,retention_low,retention_high,pareto\n";
  for (const auto& p : t.points)
    s += csv_field(p.name) + "," + csv_field(p.method) + "," + (p.alpha < 0 ? "" : number(p.alpha)) + "," + std::to_string(p.seeds) + "," +
         csv_field(t.target + " " + t.target_metric) + "," + number(p.gain.value) + "," + number(p.gain.low) + "," + number(p.gain.high) + "," +
         number(p.retention.value) + "," + number(p.retention.low) + "," + number(p.retention.high) + "," + (p.pareto ? "yes" : "no") + "\n";
  return s;
}

std::string tradeoff_svg(const Tradeoff& t, int width, int height) {
  ScatterChart c;
  c.title = "Learning and forgetting: " + t.target + " against retention";
  c.x_label = "gain on " + t.target + " (" + t.target_metric + ", vs. the base model)";
  std::string kept;
  for (const auto& b : t.retention) kept += (kept.empty() ? "" : ", ") + b;
  c.y_label = "retention change (mean of " + kept + ")";
  std::map<std::string, size_t> series;
  for (const auto& p : t.points) {
    const auto [it, added] = series.emplace(p.method, series.size());
    if (added) c.series.push_back(p.method);
    ScatterPoint s;
    s.x = p.gain.value, s.x_low = p.gain.low, s.x_high = p.gain.high;
    s.y = p.retention.value, s.y_low = p.retention.low, s.y_high = p.retention.high;
    s.series = it->second;
    s.small = p.alpha >= 0;
    char alpha[32];
    std::snprintf(alpha, sizeof(alpha), "α=%g", p.alpha);
    s.label = p.alpha >= 0 ? alpha : "";
    s.tooltip = p.name + ": gain " + number(p.gain.value) + " [" + number(p.gain.low) + ", " + number(p.gain.high) + "], retention " +
                number(p.retention.value) + " [" + number(p.retention.low) + ", " + number(p.retention.high) + "], " + std::to_string(p.seeds) + " seed(s)";
    c.points.push_back(s);
  }
  for (const auto& curve : t.curves) c.curves.push_back(curve.points);
  for (size_t i = 0; i < t.points.size(); ++i)
    if (t.points[i].pareto) c.front.push_back(i);
  std::sort(c.front.begin(), c.front.end(), [&](size_t a, size_t b) { return t.points[a].gain.value < t.points[b].gain.value; });
  return scatter_chart(c, width, height);
}

}  // namespace imsm::report
