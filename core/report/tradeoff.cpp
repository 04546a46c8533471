#include "report/tradeoff.h"

#include <algorithm>
#include <cstdio>
#include <map>

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

}  // namespace

Tradeoff tradeoff(const store::Workspace& ws, const ResultTable& t, const std::string& target, const BootstrapOptions& options) {
  Tradeoff out;
  if (t.columns.empty()) {
    out.why_empty = "no evaluations";
    return out;
  }
  size_t target_column = 0;
  if (!target.empty()) {
    const auto it = std::find_if(t.columns.begin(), t.columns.end(), [&](const Column& c) { return c.benchmark == target; });
    if (it == t.columns.end()) throw_bad_input("target", "\"" + target + "\" is not a benchmark of these evaluations");
    target_column = static_cast<size_t>(it - t.columns.begin());
  }
  out.target = t.columns[target_column].benchmark;
  out.target_metric = t.columns[target_column].metric;
  std::vector<size_t> kept;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (c != target_column && is_item_metric(t.columns[c].metric)) {
      kept.push_back(c);
      out.retention.push_back(t.columns[c].benchmark);
      out.retention_metrics.push_back(t.columns[c].metric);
    }
  if (!is_item_metric(out.target_metric)) out.why_empty = "the target " + out.target + " is scored by " + out.target_metric + ", not per example";
  else if (kept.empty()) out.why_empty = "no benchmark besides " + out.target + " to measure retention on";
  if (!out.why_empty.empty()) return out;

  ItemScores items(ws);
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto base = t.base_of(r);
    const Cell* x = t.cell(r, target_column);
    if (!base || !x || !t.cell(*base, target_column)) continue;
    std::vector<SeedScores> row_scores, base_scores;
    for (size_t c : kept) {
      const Cell *a = t.cell(r, c), *b = t.cell(*base, c);
      if (!a || !b) break;
      row_scores.push_back(items.of(*a, t.columns[c]));
      base_scores.push_back(items.of(*b, t.columns[c]));
    }
    if (row_scores.size() != kept.size()) continue;
    TradeoffPoint p;
    p.row = r;
    p.name = t.rows[r].name;
    p.method = method_without_mix(t.rows[r].method);
    p.seeds = x->n;
    if (t.rows[r].config.is_object() && t.rows[r].config.contains("eval_mix_alpha")) p.alpha = t.rows[r].config["eval_mix_alpha"].get<double>();
    try {
      p.gain = compare_scores(out.target_metric, items.of(*x, t.columns[target_column]), items.of(*t.cell(*base, target_column), t.columns[target_column]), options);
      p.retention = compare_mean(out.retention_metrics, row_scores, base_scores, options);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::BadInput) throw;  // predictions of other lengths: not comparable, left out
      continue;
    }
    out.points.push_back(std::move(p));
  }
  // The α-sweeps: an adapter's row (α = 0) and the rows of its mixes, by α.
  std::map<std::string, TradeoffCurve> curves;
  for (size_t i = 0; i < out.points.size(); ++i) {
    const Row& row = t.rows[out.points[i].row];
    if (out.points[i].alpha < 0) continue;
    const std::string key = row.model + "\n" + without_mix(row.config).dump();
    curves[key].points.push_back(i);
  }
  for (auto& [key, curve] : curves) {
    for (size_t i = 0; i < out.points.size(); ++i) {
      const Row& row = t.rows[out.points[i].row];
      if (out.points[i].alpha < 0 && row.model + "\n" + without_mix(row.config).dump() == key) {
        curve.points.push_back(i);
        curve.name = row.name;
      }
    }
    std::sort(curve.points.begin(), curve.points.end(), [&](size_t a, size_t b) {
      return std::max(0.0, out.points[a].alpha) < std::max(0.0, out.points[b].alpha);
    });
    if (curve.name.empty()) curve.name = method_without_mix(t.rows[out.points[curve.points.front()].row].name);
    out.curves.push_back(std::move(curve));
  }
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
