#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "io/json_file.h"
#include "report/gate_colour.h"
#include "report/results.h"
#include "report/significance_table.h"
#include "report/svg.h"
#include "report/tradeoff.h"
#include "store/run_report.h"
#include "util/error.h"
#include "util/table.h"

namespace fs = std::filesystem;

namespace imsm::report {

namespace {

std::string esc(const std::string& s) { return xml_escape(s); }

// " · peak 12.40 GiB GPU" when the run's resource samples were recorded.
std::string peak_html(const store::Workspace& ws, int64_t run_id) {
  const std::string peak = store::peak_memory_text(ws.resource_peak(run_id));
  return peak.empty() ? "" : " · peak " + esc(peak);
}

const char* kStyle =
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
    "td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}"
    ".tok{border-radius:3px;padding:0 1px;white-space:pre-wrap}.ex{margin:0.8em 0;padding:0.5em;border:1px solid #eee}"
    ".prompt{color:#666;font-size:12px;white-space:pre-wrap}.legend span{padding:2px 6px;margin-right:4px}";

// A token's background: the gate's colour (report/gate_colour.h) in its lighter, text form.
std::string gate_colour(double g) { return hex(gate_text_background(g)); }

// What a report shows: the runs, their results and the tests of the results' differences, computed once for every format.
struct Findings {
  std::vector<int64_t> ids;
  ResultTable table;
  SignificanceTable sig;
  Tradeoff trade;
};

Findings find_results(const store::Workspace& ws, const Options& o) {
  Findings f;
  f.ids = selected_runs(ws, o.run_ids);
  f.table = aggregate_results(ws, f.ids);
  f.sig = test_significance(ws, f.table);
  f.trade = tradeoff(ws, f.table, o.target);
  return f;
}

// Per benchmark column: the change of a row from its model's Base (NaN when either is missing).
double change(const ResultTable& t, size_t row, size_t column) {
  const auto base = t.base_of(row);
  const Cell* b = base ? t.cell(*base, column) : nullptr;
  const Cell* c = t.cell(row, column);
  return b && c ? c->mean - b->mean : NAN;
}

// "+0.0120 ± 0.0030": a change, with the method's std over its seeds when it has several.
std::string change_with_spread(double change, const Cell& cell) {
  return format_change(change, 4) + (cell.n > 1 ? " ± " + format_fixed(cell.std, 4) : "");
}

// A change from Base: with its interval and mark when tested, else Δ ± the method's std over seeds.
std::string change_text(const ResultTable& t, const SignificanceTable& sig, size_t m, size_t c) {
  const Cell* cell = t.cell(m, c);
  if (!cell || std::isnan(change(t, m, c))) return "";
  if (const Test* test = sig.find(m, *t.base_of(m), c)) return difference_text(change(t, m, c), test->difference);
  return change_with_spread(change(t, m, c), *cell);
}

// IMSM(X) - X on a benchmark: the means' difference with the test's interval and mark ("" when untested).
std::string imsm_text(const ResultTable& t, const SignificanceTable& sig, size_t m, size_t x, size_t c) {
  const Test* test = sig.find(m, x, c);
  return test ? difference_text(t.cell(m, c)->mean - t.cell(x, c)->mean, test->difference) : "";
}

// The "average" column: a method's mean over the benchmarks (± std over seeds), or its change from Base's.
std::string average_text(const ResultTable& t, size_t m, bool changes) {
  const Cell* avg = t.average(m);
  if (!avg) return "";
  if (!changes) return mean_std(*avg);
  const auto base_row = t.base_of(m);
  const Cell* base = base_row ? t.average(*base_row) : nullptr;
  return base ? change_with_spread(avg->mean - base->mean, *avg) : "";
}

std::string average_header(const ResultTable& t) { return "average of " + std::to_string(t.averaged_columns); }

std::string scores_table_html(const ResultTable& t, const SignificanceTable& sig, bool changes) {
  std::string h = "<table><tr><th>configuration</th>";
  for (const auto& c : t.columns) h += "<th>" + esc(c.benchmark) + "<br/><small>" + esc(c.metric) + "</small></th>";
  if (!t.averages.empty()) h += "<th>" + esc(average_header(t)) + "<br/><small>benchmarks</small></th>";
  h += "</tr>";
  for (size_t m = 0; m < t.rows.size(); ++m) {
    if (changes && !t.base_of(m)) continue;
    h += "<tr><td>" + esc(t.rows[m].name) + "</td>";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell* cell = t.cell(m, c);
      std::string v;
      if (cell && !changes) v = mean_std(*cell) + (cell->n > 1 ? " <small>(n=" + std::to_string(cell->n) + ")</small>" : "");
      if (changes) v = esc(change_text(t, sig, m, c));
      h += "<td>" + v + "</td>";
    }
    if (!t.averages.empty()) h += "<td>" + esc(average_text(t, m, changes)) + "</td>";
    h += "</tr>";
  }
  return h + "</table>";
}

// IMSM(X) - X per benchmark, with interval and mark.
std::string imsm_table_html(const ResultTable& t, const SignificanceTable& sig) {
  std::string h = "<table><tr><th>comparison</th>";
  for (const auto& c : t.columns) h += "<th>" + esc(c.benchmark) + "<br/><small>" + esc(c.metric) + "</small></th>";
  h += "</tr>";
  for (const auto& [m, x] : imsm_pairs(t)) {
    h += "<tr><td>" + esc(t.rows[m].name + " − " + t.rows[x].name) + "</td>";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      h += "<td>" + esc(imsm_text(t, sig, m, x, c)) + "</td>";
    }
    h += "</tr>";
  }
  return h + "</table>";
}

std::string loss_chart(const store::Workspace& ws, const std::vector<store::RunRecord>& runs) {
  std::vector<Series> series;
  for (const auto& r : runs) {
    if (r.kind != "train") continue;
    Series s;
    s.label = "run " + std::to_string(r.id) + " " + method_label(r.config_json) + " seed " + std::to_string(r.seed);
    for (const auto& m : ws.train_metrics(r.id)) {
      s.x.push_back(static_cast<double>(m.step));
      s.y.push_back(m.loss);
    }
    if (!s.x.empty()) series.push_back(std::move(s));
  }
  if (series.empty()) return "<p>No training runs.</p>";
  return line_chart(series, "Training loss", "optimizer step", "loss", 900, 340);
}

std::string examples_html(const store::Workspace& ws, const std::vector<store::RunRecord>& runs, int64_t per_run) {
  std::string h;
  for (const auto& r : runs) {
    if (r.kind != "eval" || r.status != RunStatus::Finished) continue;
    std::set<std::string> benchmarks;
    for (const auto& e : ws.evaluations(r.id)) benchmarks.insert(e.benchmark);
    for (const auto& b : benchmarks) {
      const auto preds = ws.predictions(r.id, b, false);
      const bool gated = std::any_of(preds.begin(), preds.end(), [](const store::Prediction& p) {
        return std::any_of(p.tokens.begin(), p.tokens.end(), [](const store::TokenRecord& t) { return t.gate_mean >= 0; });
      });
      if (!gated) continue;
      h += "<h3>" + esc(r.name) + " — " + esc(b) + " (run " + std::to_string(r.id) + ")</h3>";
      for (int64_t i = 0; i < per_run && i < static_cast<int64_t>(preds.size()); ++i) {
        const auto& p = preds[static_cast<size_t>(i)];
        std::string gold;
        for (const auto& g : p.golds) gold += (gold.empty() ? "" : " | ") + g;
        h += "<div class=\"ex\"><div class=\"prompt\">" + esc(p.input.size() > 400 ? "…" + p.input.substr(p.input.size() - 400) : p.input) +
             "</div><div>";
        for (const auto& t : p.tokens) {
          char title[64];
          std::snprintf(title, sizeof(title), "id %d, gate %.3f", t.id, static_cast<double>(t.gate_mean));
          h += "<span class=\"tok\" style=\"background:" + gate_colour(t.gate_mean) + "\" title=\"" + esc(title) + "\">" + esc(t.piece) + "</span>";
        }
        h += "</div><div><small>gold: " + esc(gold) + "</small></div></div>";
      }
    }
  }
  if (h.empty()) return "<p>No evaluations with gate traces (evaluate an IMSM adapter with --workspace).</p>";
  return "<p class=\"legend\">Each generated token is coloured by its mean gate: <span style=\"background:" + gate_colour(1) +
         "\">draws on the original model (g = 1)</span><span style=\"background:" + gate_colour(0) + "\">on the fine-tuned model (g = 0)</span></p>" + h;
}

}  // namespace

std::vector<int64_t> selected_runs(const store::Workspace& ws, const std::vector<int64_t>& requested) {
  const auto all = ws.runs();
  if (requested.empty()) {
    std::vector<int64_t> ids;
    for (const auto& r : all) ids.push_back(r.id);
    return ids;
  }
  std::set<int64_t> keep(requested.begin(), requested.end());
  for (int64_t id : requested) ws.run(id);  // BadInput for an unknown id
  for (const auto& r : all) {
    if (r.parent_run_id && keep.count(r.parent_run_id)) keep.insert(r.id);  // evaluations of a requested training run
    if (keep.count(r.id) && r.parent_run_id) keep.insert(r.parent_run_id);  // the training run of a requested evaluation
  }
  return {keep.begin(), keep.end()};
}

std::vector<int64_t> runs_with_their_base(const store::Workspace& ws, const std::vector<int64_t>& requested) {
  std::vector<int64_t> ids = selected_runs(ws, requested);
  if (requested.empty()) return ids;
  std::set<std::string> models;
  for (int64_t id : ids) models.insert(ws.run(id).model_path);
  for (const auto& r : ws.runs())
    if (r.kind == "eval" && r.parent_run_id == 0 && models.count(r.model_path) && std::find(ids.begin(), ids.end(), r.id) == ids.end()) {
      const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
      if (!json::text_or(config, "adapter", "").empty()) continue;  // an adapter evaluated alone, not the base
      ids.push_back(r.id);
    }
  return ids;
}

namespace {

// The trade-off picture, its points as a table, and how to read it.
std::string tradeoff_html(const Tradeoff& trade) {
  if (trade.points.empty()) return "<p>No trade-off picture: " + esc(trade.why_empty) + ".</p>";
  std::string h = tradeoff_svg(trade);
  h += "<table><tr><th>configuration</th><th>seeds</th><th>gain on " + esc(trade.target) + " [95% interval]</th><th>retention change [95% interval]</th><th>Pareto</th></tr>";
  for (const auto& p : trade.points)
    h += "<tr><td>" + esc(p.name) + "</td><td>" + std::to_string(p.seeds) + "</td><td>" + esc(difference_text(p.gain)) + "</td><td>" +
         esc(difference_text(p.retention)) + "</td><td>" + (p.pareto ? "yes" : "") + "</td></tr>";
  std::string kept;
  for (const auto& b : trade.retention) kept += (kept.empty() ? "" : ", ") + b;
  return h + "</table><p><small>x: the change of " + esc(trade.target + " " + trade.target_metric) + " from the base model; y: the mean change of " +
         esc(kept) + ". Bars: the paired bootstrap's 95% intervals, resampling the examples and the training seeds. Lines: an adapter "
         "evaluated at fixed mixes α·h_M + (1 − α)·h_M' (α = 0 is the adapter itself). Dashed: the Pareto front, the configurations no "
         "other one (nor the base model) beats on both axes. The points are also in the report's .tradeoff.csv.</small></p>";
}

// The machine and engine that wrote the report, and what the runs ran on.
std::string environment_html(const std::vector<store::RunRecord>& runs, const Environment& env) {
  std::set<std::string> devices, engines;
  std::set<int64_t> seeds;
  for (const auto& r : runs) {
    devices.insert(r.device);
    engines.insert(r.engine_version);
    if (r.kind == "train") seeds.insert(r.seed);
  }
  auto joined = [](const auto& set) {
    std::string s;
    for (const auto& x : set) {
      std::ostringstream os;
      os << x;
      s += (s.empty() ? "" : ", ") + os.str();
    }
    return s;
  };
  return "<h2>Environment</h2><table><tr><td>report by</td><td>imsm " + esc(env.engine_version) + " (LibTorch " + esc(env.torch_version) +
         ") on " + esc(env.host) + "</td></tr><tr><td>runs</td><td>" + std::to_string(runs.size()) + "</td></tr><tr><td>devices</td><td>" +
         esc(joined(devices)) + "</td></tr><tr><td>engine versions of the runs</td><td>" + esc(joined(engines)) +
         "</td></tr><tr><td>training seeds</td><td>" + esc(joined(seeds)) + "</td></tr></table>";
}

// Per benchmark, a bar per configuration with a base model: its change, its spread over seeds.
std::string change_chart(const ResultTable& t) {
  std::vector<BarGroup> groups;
  std::vector<size_t> rows;
  std::vector<std::string> labels;
  for (size_t m = 0; m < t.rows.size(); ++m)
    if (t.base_of(m)) rows.push_back(m), labels.push_back(t.rows[m].name);
  for (size_t c = 0; c < t.columns.size(); ++c) {
    BarGroup g;
    g.label = t.columns[c].benchmark;
    for (size_t m : rows) {
      g.values.push_back(change(t, m, c));  // NaN when missing: no bar
      const Cell* cell = t.cell(m, c);
      g.errors.push_back(cell ? cell->std : 0);
    }
    groups.push_back(std::move(g));
  }
  return bar_chart(groups, labels, "Change from the base model per benchmark", "score change", 900, 340);
}

std::string scores_html(const Findings& f) {
  const ResultTable& t = f.table;
  const SignificanceTable& sig = f.sig;
  if (t.columns.empty()) return "<h2>Scores</h2><p>No finished evaluations.</p>";
  std::string h = "<h2>Scores (mean ± std over seeds)</h2>" + scores_table_html(t, sig, false);
  if (!imsm_pairs(t).empty()) h += "<h2>IMSM against the method it is put on</h2>" + imsm_table_html(t, sig);
  if (t.has_changes())
    h += "<h2>Change from the base model (forgetting where negative)</h2>" + scores_table_html(t, sig, true) + change_chart(t);
  h += "<p><small>" + esc(significance_method(sig, t.columns.size())) + "</small></p>";
  if (t.has_changes()) h += "<h2>Learning and forgetting</h2>" + tradeoff_html(f.trade);
  return h;
}

// Each run folded: its summary line, then its model, times and configuration.
std::string runs_html(const store::Workspace& ws, const std::vector<store::RunRecord>& runs) {
  std::string h = "<h2>Runs</h2>";
  for (const auto& r : runs) {
    const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
    h += "<details><summary>run " + std::to_string(r.id) + " · " + esc(r.kind) + " · " + esc(r.name) + " · " + esc(status_name(r.status)) + " · seed " +
         std::to_string(r.seed) + " · " + esc(r.device) + peak_html(ws, r.id) + "</summary><p>model <code>" + esc(r.model_path) + "</code>, started " +
         esc(r.started_at) + ", ended " + esc(r.ended_at) + ", engine " + esc(r.engine_version) + (r.message.empty() ? "" : ", " + esc(r.message)) +
         "</p><pre>" + esc(config.is_discarded() ? r.config_json : config.dump(2)) + "</pre></details>";
  }
  return h;
}

std::string html_of(const store::Workspace& ws, const Findings& f, const Options& o, const Environment& env) {
  std::vector<store::RunRecord> runs;
  for (int64_t id : f.ids) runs.push_back(ws.run(id));
  std::string h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><title>IMSM Workbench report</title><style>" +
                  std::string(kStyle) + "</style></head><body><h1>IMSM Workbench report</h1>";
  h += "<p>Workspace <code>" + esc(ws.path()) + "</code>, generated " + esc(env.generated_at) + ".</p>";
  h += environment_html(runs, env);
  h += scores_html(f);
  h += "<h2>Training loss</h2>" + loss_chart(ws, runs);
  h += "<h2>Example answers</h2>" + examples_html(ws, runs, o.examples);
  h += runs_html(ws, runs);
  return h + "</body></html>\n";
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

// The scores (mean ± std) or, with changes, each configuration's change from its base model.
std::string md_scores_table(const ResultTable& t, const SignificanceTable& sig, bool changes) {
  std::string s = "| configuration |";
  for (const auto& c : t.columns) s += " " + md_escape(c.benchmark) + " (" + md_escape(c.metric) + ") |";
  if (!t.averages.empty()) s += " " + average_header(t) + " |";
  s += "\n|---|";
  for (size_t i = 0; i < t.columns.size() + (t.averages.empty() ? 0 : 1); ++i) s += "---|";
  s += "\n";
  for (size_t mi = 0; mi < t.rows.size(); ++mi) {
    if (changes && !t.base_of(mi)) continue;
    s += "| " + md_escape(t.rows[mi].name) + " |";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell* cell = t.cell(mi, c);
      std::string v;
      if (cell && !changes) v = mean_std(*cell);
      if (changes) v = change_text(t, sig, mi, c);
      s += " " + v + " |";
    }
    if (!t.averages.empty()) s += " " + average_text(t, mi, changes) + " |";
    s += "\n";
  }
  return s;
}

std::string md_imsm_table(const ResultTable& t, const SignificanceTable& sig) {
  std::string m = "\n## IMSM against the method it is put on\n\n| comparison |";
  for (const auto& c : t.columns) m += " " + md_escape(c.benchmark) + " (" + md_escape(c.metric) + ") |";
  m += "\n|---|";
  for (size_t i = 0; i < t.columns.size(); ++i) m += "---|";
  m += "\n";
  for (const auto& [mi, x] : imsm_pairs(t)) {
    m += "| " + md_escape(t.rows[mi].name + " − " + t.rows[x].name) + " |";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      m += ' ';  // appends, not " " + text: GCC 12's -Wrestrict misfires on that
      m += imsm_text(t, sig, mi, x, c);
      m += " |";
    }
    m += "\n";
  }
  return m;
}

std::string md_tradeoff(const Tradeoff& trade) {
  std::string m = "\n## Learning and forgetting\n\n| configuration | seeds | gain on " + md_escape(trade.target) +
                  " [95% interval] | retention change [95% interval] | Pareto |\n|---|---|---|---|---|\n";
  for (const auto& p : trade.points)
    m += "| " + md_escape(p.name) + " | " + std::to_string(p.seeds) + " | " + difference_text(p.gain) + " | " + difference_text(p.retention) + " | " +
         (p.pareto ? "yes" : "") + " |\n";
  return m;
}

std::string markdown_of(const store::Workspace& ws, const Findings& f, const Environment& env) {
  const ResultTable& t = f.table;
  const SignificanceTable& sig = f.sig;
  std::string m = "# IMSM Workbench report\n\nWorkspace `" + ws.path() + "`, generated " + env.generated_at + " by imsm " + env.engine_version +
                  " (LibTorch " + env.torch_version + ") on " + env.host + ".\n\n## Scores (mean ± std over seeds)\n\n";
  m += t.columns.empty() ? "No finished evaluations.\n" : md_scores_table(t, sig, false);
  if (!imsm_pairs(t).empty()) m += md_imsm_table(t, sig);
  if (t.has_changes()) m += "\n## Change from the base model\n\n" + md_scores_table(t, sig, true);
  if (!t.columns.empty()) m += "\n" + significance_method(sig, t.columns.size()) + "\n";
  if (!f.trade.points.empty()) m += md_tradeoff(f.trade);
  m += "\n## Runs\n\n| id | kind | name | status | seed | device | peak memory |\n|---|---|---|---|---|---|---|\n";
  for (int64_t id : f.ids) {
    const auto r = ws.run(id);
    m += "| " + std::to_string(r.id) + " | " + r.kind + " | " + md_escape(r.name) + " | " + status_name(r.status) + " | " + std::to_string(r.seed) + " | " +
         md_escape(r.device) + " | " + store::peak_memory_text(ws.resource_peak(r.id)) + " |\n";
  }
  return m;
}

std::string csv_of(const Findings& f) {
  const ResultTable& t = f.table;
  const SignificanceTable& sig = f.sig;
  std::string out =
      "method,benchmark,metric,mean,std,n,change_from_base,change_low,change_high,change_p_holm,test,"
      "vs_method,vs_change,vs_low,vs_high,vs_p_holm\r\n";
  auto test_fields = [](const Test* test) {
    if (!test) return std::string(",,");
    const Difference& d = test->difference;
    return format_number(d.low) + "," + format_number(d.high) + "," + format_number(d.p_holm);
  };
  const auto pairs = imsm_pairs(t);
  for (size_t m = 0; m < t.rows.size(); ++m)
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const Cell* cell = t.cell(m, c);
      if (!cell) continue;
      const double d = change(t, m, c);
      const auto base = t.base_of(m);
      const Test* vs_base = base ? sig.find(m, *base, c) : nullptr;
      out += csv_field(t.rows[m].name) + "," + csv_field(t.columns[c].benchmark) + "," + csv_field(t.columns[c].metric) + "," + format_number(cell->mean) + "," +
             format_number(cell->std) + "," + std::to_string(cell->n) + "," + (std::isnan(d) ? "" : format_number(d)) + "," +
             test_fields(vs_base) + "," + (vs_base ? csv_field(vs_base->difference.test) : "");
      const auto pair = std::find_if(pairs.begin(), pairs.end(), [&](const auto& p) { return p.first == m; });
      const Test* vs = pair == pairs.end() ? nullptr : sig.find(m, pair->second, c);
      const std::string vs_fields =
          vs ? csv_field(t.rows[pair->second].name) + "," + format_number(cell->mean - t.cell(pair->second, c)->mean) + "," + test_fields(vs) : ",,,,";
      out += ',';
      out += vs_fields;
      out += "\r\n";
    }
  for (const auto& [m, avg] : t.averages) {  // the average over the benchmarks: no test of its own
    const auto base_row = t.base_of(m);
    const Cell* base = base_row ? t.average(*base_row) : nullptr;
    out += csv_field(t.rows[m].name) + ",average,mean of " + std::to_string(t.averaged_columns) + " benchmarks," + format_number(avg.mean) + "," +
           format_number(avg.std) + "," + std::to_string(avg.n) + "," + (base ? format_number(avg.mean - base->mean) : "") + ",,,,,,,,,\r\n";
  }
  return out;
}

}  // namespace

std::string html_report(const store::Workspace& ws, const Options& o, const Environment& env) { return html_of(ws, find_results(ws, o), o, env); }

std::string markdown_report(const store::Workspace& ws, const Options& o, const Environment& env) { return markdown_of(ws, find_results(ws, o), env); }

std::string results_csv(const store::Workspace& ws, const Options& o) { return csv_of(find_results(ws, o)); }

void write_reports(const store::Workspace& ws, const Options& o, const Environment& env, const std::vector<std::string>& outs) {
  for (const std::string& out : outs) {
    const std::string ext = fs::path(out).extension().string();
    if (ext != ".html" && ext != ".htm" && ext != ".md" && ext != ".csv") throw_bad_input(out, "unknown report type \"" + ext + "\": use .html, .md or .csv");
  }
  if (outs.empty()) return;
  const Findings f = find_results(ws, o);
  for (const std::string& out : outs) {
    const std::string ext = fs::path(out).extension().string();
    const std::string text = ext == ".md" ? markdown_of(ws, f, env) : ext == ".csv" ? csv_of(f) : html_of(ws, f, o, env);
    json::write_text_atomically(out, text);
    if (ext == ".csv" && !f.trade.points.empty())  // the trade-off's points beside the results
      json::write_text_atomically((fs::path(out).parent_path() / (fs::path(out).stem().string() + ".tradeoff.csv")).string(), tradeoff_csv(f.trade));
  }
}

void write_report(const store::Workspace& ws, const Options& o, const Environment& env, const std::string& out) { write_reports(ws, o, env, {out}); }

}  // namespace imsm::report
