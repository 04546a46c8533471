// The reading half of the workspace: models, datasets, runs, metrics, evaluations, predictions
// with their gate traces, artifacts.
#include <algorithm>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "store/sqlite.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/half.h"

namespace fs = std::filesystem;

namespace imsm::store {

namespace {
constexpr const char* kRunColumns =
    "SELECT r.id, r.kind, r.name, r.status, coalesce(m.path, ''), coalesce(d.path, ''), coalesce(r.parent_run_id, 0), "
    "r.config_json, coalesce(r.seed, 0), coalesce(r.device, ''), r.engine_version, coalesce(r.output_dir, ''), "
    "coalesce(r.last_checkpoint, ''), coalesce(r.message, ''), r.created_at, coalesce(r.started_at, ''), "
    "coalesce(r.ended_at, '') FROM runs r LEFT JOIN models m ON m.id = r.model_id LEFT JOIN datasets d ON d.id = r.dataset_id ";

RunRecord read_run(const sql::Statement& st) {
  RunRecord r;
  r.id = st.int64(0);
  r.kind = st.text(1);
  r.name = st.text(2);
  const auto status = parse_run_status(st.text(3));
  if (!status) throw_bad_input("run " + std::to_string(r.id), "unknown status \"" + st.text(3) + "\" (written by a newer imsm?)");
  r.status = *status;
  r.model_path = st.text(4);
  r.dataset_path = st.text(5);
  r.parent_run_id = st.int64(6);
  r.config_json = st.text(7);
  r.seed = st.int64(8);
  r.device = st.text(9);
  r.engine_version = st.text(10);
  r.output_dir = st.text(11);
  r.last_checkpoint = st.text(12);
  r.message = st.text(13);
  r.created_at = st.text(14);
  r.started_at = st.text(15);
  r.ended_at = st.text(16);
  return r;
}
}  // namespace

std::vector<ModelRecord> Workspace::models() const {
  std::vector<ModelRecord> out;
  auto st = db_->prepare("SELECT id, path, name, coalesce(architecture, ''), coalesce(parameters, 0), added_at FROM models ORDER BY id");
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(5), st.int64(4)});
  return out;
}

std::vector<DatasetRecord> Workspace::datasets() const {
  std::vector<DatasetRecord> out;
  auto st = db_->prepare("SELECT id, path, name, sha256, coalesce(examples, 0), added_at FROM datasets ORDER BY id");
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(5), st.int64(4)});
  return out;
}

std::vector<RunRecord> Workspace::runs() const {
  std::vector<RunRecord> out;
  auto st = db_->prepare(std::string(kRunColumns) + "ORDER BY r.id");
  while (st.step()) out.push_back(read_run(st));
  return out;
}

RunRecord Workspace::run(int64_t id) const {
  auto st = db_->prepare(std::string(kRunColumns) + "WHERE r.id = ?1");
  st.bind(1, id);
  if (!st.step()) throw_bad_input(path_, "no run " + std::to_string(id) + " (imsm runs list shows the runs)");
  return read_run(st);
}

std::vector<StepRecord> Workspace::train_metrics(int64_t run_id) const {
  std::vector<StepRecord> out;
  auto st = db_->prepare(
      "SELECT step, epoch, loss, learning_rate, grad_norm, tokens_per_second, gate_mean FROM train_metrics WHERE run_id = ?1 ORDER BY step");
  st.bind(1, run_id);
  while (st.step()) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    StepRecord m;
    m.step = st.int64(0);
    m.epoch = st.int64(1);
    m.loss = st.is_null(2) ? nan : st.real(2);
    m.learning_rate = st.real(3);
    m.grad_norm = st.is_null(4) ? nan : st.real(4);
    m.tokens_per_second = st.real(5);
    m.gate_mean = st.is_null(6) ? -1.0 : st.real(6);
    out.push_back(m);
  }
  return out;
}

std::vector<ValidationRecord> Workspace::validation(int64_t run_id) const {
  std::vector<ValidationRecord> out;
  if (!db_->has_table("validation_metrics")) return out;  // a workspace of schema 2 opened read-only: no validation
  auto st = db_->prepare("SELECT step, epoch, benchmark, metric, value FROM validation_metrics WHERE run_id = ?1 ORDER BY step, rowid");
  st.bind(1, run_id);
  while (st.step())
    out.push_back({st.int64(0), st.int64(1), st.text(2), st.text(3), st.is_null(4) ? std::numeric_limits<double>::quiet_NaN() : st.real(4)});
  return out;
}

std::vector<Evaluation> Workspace::evaluations(int64_t run_id) const {
  std::vector<Evaluation> out;
  auto st = db_->prepare(
      "SELECT e.benchmark, e.task, e.metric, e.value, e.examples, d.path, d.sha256 FROM evaluations e JOIN datasets d ON d.id = e.dataset_id "
      "WHERE e.run_id = ?1 ORDER BY e.id");
  st.bind(1, run_id);
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.real(3), st.int64(4), st.text(5), st.text(6)});
  return out;
}

std::vector<Prediction> Workspace::predictions(int64_t run_id, const std::string& benchmark, bool with_gate) const {
  std::vector<Prediction> out;
  std::vector<int64_t> ids;
  auto st = db_->prepare(
      "SELECT id, example_index, input, golds_json, answer FROM predictions WHERE run_id = ?1 AND benchmark = ?2 ORDER BY example_index");
  st.bind_all(run_id, benchmark);
  while (st.step()) {
    Prediction p;
    ids.push_back(st.int64(0));
    p.example_index = st.int64(1);
    p.input = st.text(2);
    const auto golds = nlohmann::json::parse(st.text(3), nullptr, false);  // a list of strings, as add_predictions writes
    if (!golds.is_array() || !std::all_of(golds.begin(), golds.end(), [](const auto& g) { return g.is_string(); }))
      throw_bad_input(path_ + ": prediction " + std::to_string(ids.back()), "golds_json is not a list of strings: the workspace is damaged");
    p.golds = golds.get<std::vector<std::string>>();
    p.answer = st.text(4);
    out.push_back(std::move(p));
  }
  auto tok = db_->prepare(
      "SELECT token_id, piece, gate_mean, gate_f16 FROM gate_traces WHERE prediction_id = ?1 ORDER BY position");
  for (size_t i = 0; i < out.size(); ++i) {
    tok.bind(1, ids[i]);
    while (tok.step()) {
      TokenRecord t;
      t.id = static_cast<int32_t>(tok.int64(0));
      t.piece = tok.text(1);
      t.gate_mean = tok.is_null(2) ? -1.f : static_cast<float>(tok.real(2));
      if (with_gate && !tok.is_null(3)) t.gate = from_half_bytes(tok.blob(3));
      out[i].tokens.push_back(std::move(t));
    }
    tok.reset();
  }
  return out;
}

std::vector<Artifact> Workspace::artifacts(int64_t run_id) const {
  std::vector<Artifact> out;
  auto st = db_->prepare("SELECT kind, path, sha256, bytes FROM artifacts WHERE run_id = ?1 ORDER BY id");
  st.bind(1, run_id);
  while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), st.int64(3)});
  return out;
}

std::vector<ConversationRecord> Workspace::conversations(int64_t run_id) const {
  std::vector<ConversationRecord> out;
  if (!db_->has_table("conversations")) return out;  // a workspace of schema 4 opened read-only
  auto st = db_->prepare("SELECT id, run_id, title, settings_json, turns_json, created_at, updated_at FROM conversations WHERE run_id = ?1 ORDER BY id");
  st.bind(1, run_id);
  while (st.step()) out.push_back({st.int64(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.text(5), st.text(6)});
  return out;
}

std::optional<int64_t> Workspace::run_of_adapter(const std::string& dir) const {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(dir), ec);
  const std::string prefix = (ec ? fs::absolute(dir).lexically_normal() : p).string() + "/";
  auto st = db_->prepare(
      "SELECT run_id FROM artifacts WHERE kind = 'adapter' AND substr(path, 1, length(?1)) = ?1 ORDER BY run_id DESC LIMIT 1");
  st.bind(1, prefix);
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

}  // namespace imsm::store
