// Reports of a workspace: a self-contained HTML page (inline SVG plots, all
// text escaped), Markdown, or a CSV of the aggregated results — chosen by the
// output file's extension (.html, .md, .csv). Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "store/workspace.h"

namespace imsm::report {

struct Environment {
  std::string engine_version, torch_version, generated_at, host;
};

struct Options {
  std::vector<int64_t> run_ids;  // empty: every run; otherwise these, their evaluations and their training runs
  int64_t examples = 6;          // example answers shown per IMSM evaluation
  std::string target;            // the trade-off's learned benchmark ("": the first; report/tradeoff.h)
};

// The run ids a report covers (see Options::run_ids).
std::vector<int64_t> selected_runs(const store::Workspace& ws, const std::vector<int64_t>& requested);
// selected_runs, and the evaluations of the base models those runs start
// from (what their changes are measured against); every run when empty.
std::vector<int64_t> runs_with_their_base(const store::Workspace& ws, const std::vector<int64_t>& requested);

std::string html_report(const store::Workspace& ws, const Options& options, const Environment& env);
std::string markdown_report(const store::Workspace& ws, const Options& options, const Environment& env);
// configuration (the row's name; the column keeps its old name "method"),
// method,benchmark,metric,mean,std,n,change_from_base, then the change's 95%
// interval, Holm-adjusted p and test (report/significance_table.h), then for
// IMSM(X) the comparison with X: vs_method,vs_change,vs_low,vs_high,vs_p_holm
std::string results_csv(const store::Workspace& ws, const Options& options);

// Writes by extension (atomically); BadInput for another extension.
void write_report(const store::Workspace& ws, const Options& options, const Environment& env, const std::string& out_path);
// Writes each of `out_paths` (by extension) from one computation of the
// results and their tests; BadInput, before anything is computed or written,
// for an unknown extension.
void write_reports(const store::Workspace& ws, const Options& options, const Environment& env, const std::vector<std::string>& out_paths);

}  // namespace imsm::report
