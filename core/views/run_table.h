// The workspace's runs as the workbench and `imsm runs list` show them: one
// row per run joined with what belongs to it (a training run's last step and
// loss and the scores of the evaluations of its adapter; an evaluation's
// scores and whose adapter it ran), which runs hold an IMSM adapter to
// inspect and how to open it, and a stored prediction's tokens as the inspector's traces.
// Torch-free.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/export_request.h"
#include "config/model_source.h"
#include "eval/token_trace.h"
#include "store/workspace.h"
#include "util/table.h"

namespace imsm {

struct RunSummary {
  int64_t id = 0, parent_run_id = 0, seed = 0, steps = 0;  // steps: the last recorded optimizer step (0: none)
  std::string kind, name, method, variant, model_path, started_at, message;
  std::string sweep;  // the sweep grid a training run is a cell of ("": none)
  RunStatus status = RunStatus::Queued;
  double final_loss = -1;  // < 0: none
  double seconds = -1;     // < 0: not ended
  std::vector<std::pair<std::string, double>> scores;  // "arith Accuracy" -> value: its own, then (training) its adapter's
  store::ResourcePeak peak;  // the most memory it held while it ran (its resource samples)
};


std::vector<RunSummary> run_summaries(const store::Workspace& ws);

// `imsm runs list`: id, kind, status, name, model, started, duration, result.
Table runs_table(const std::vector<RunSummary>& runs);

// A finished training run's adapter folder ("" for any other run; the folder may be gone).
std::string finished_adapter_of(const store::RunRecord& run);

// What the inspector opens for a finished training run whose adapter mixes
// with an IMSM gate (imsm_config.json, variant not none): its base model and
// adapter on the device and dtype it trained with; nullopt for any other run.
std::optional<ModelSource> imsm_source_of(const store::RunRecord& run);

// The runs of `runs` that imsm_source_of opens, newest first, with their sources.
struct ImsmRun {
  store::RunRecord run;
  ModelSource source;
};
std::vector<ImsmRun> imsm_runs(const std::vector<store::RunRecord>& runs);

// What exports a finished training run's adapter (its folder and base model;
// the output folder left to the caller); nullopt for any other run, or when
// the adapter folder is gone.
std::optional<ExportRequest> export_request_of(const store::RunRecord& run);

// A training run's gate probe per hidden dimension (~50 a run), a line each in OUTPUT/gate_probes.jsonl:
// {"step": N, "gate": [g per dimension]}. The gate scope's waterfall reads them.
constexpr const char* kGateProbesFile = "gate_probes.jsonl";
struct GateProbeRecord {
  int64_t step = 0;
  std::vector<float> gate;  // [D]
};
// By step (a resumed run appended: a step's last line counts); none without the file. BadInput naming FILE:LINE.
std::vector<GateProbeRecord> gate_probes_of(const store::RunRecord& run);

// A stored prediction's tokens as traces (gate min/max over the stored full gate, else the mean).
std::vector<TokenTrace> traces_of(const store::Prediction& prediction);

}  // namespace imsm
