#include "runs_model.h"

#include <QBrush>
#include <QColor>

#include <nlohmann/json.hpp>

#include "report/results.h"
#include "store/run_report.h"
#include "store/workspace.h"
#include "util/table.h"

namespace imsm::ui {

std::vector<RunRow> read_run_rows(const store::Workspace& ws) {
  std::vector<RunRow> out;
  const auto runs = ws.runs();
  for (const auto& r : runs) {
    RunRow row;
    row.id = r.id;
    row.parent_run_id = r.parent_run_id;
    row.seed = r.seed;
    row.kind = r.kind;
    row.status = r.status;
    row.name = r.name;
    row.started_at = r.started_at;
    row.message = r.message;
    row.seconds = store::seconds_between(r.started_at, r.ended_at);
    if (r.kind == "train") {
      row.method = report::method_label(r.config_json);
      const auto config = nlohmann::json::parse(r.config_json, nullptr, false);
      if (config.is_object() && config.contains("variant") && config["variant"].is_string()) row.variant = config["variant"].get<std::string>();
      const auto m = ws.train_metrics(r.id);
      if (!m.empty()) {
        row.steps = m.back().step;
        row.final_loss = m.back().loss;
      }
    } else {
      row.method = r.parent_run_id ? "adapter of run " + std::to_string(r.parent_run_id) : "base model";
    }
    for (const auto& e : ws.evaluations(r.id)) row.scores.emplace_back(e.benchmark + " " + e.metric, e.value);
    out.push_back(std::move(row));
  }
  // A training run shows the scores of the evaluations of its adapter; an evaluation shows whose adapter it ran.
  for (auto& parent : out)
    for (auto& child : out)
      if (child.kind == "eval" && child.parent_run_id == parent.id) {
        if (child.status == "finished") parent.scores.insert(parent.scores.end(), child.scores.begin(), child.scores.end());
        child.method = parent.method + " (run " + std::to_string(parent.id) + ")";
        child.variant = parent.variant;
        child.seed = parent.seed;
      }
  return out;
}

void RunsModel::set_rows(std::vector<RunRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

const RunRow* RunsModel::row_of(int64_t id) const {
  for (const auto& r : rows_)
    if (r.id == id) return &r;
  return nullptr;
}

int RunsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(rows_.size()); }
int RunsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

namespace {
QString scores_text(const RunRow& r) {
  QStringList parts;
  for (const auto& [k, v] : r.scores) parts << QString::fromStdString(k) + " " + QString::number(v, 'f', 3);
  return parts.join(" · ");
}
QColor status_colour(const std::string& s) {
  if (s == "finished") return QColor(46, 139, 87);
  if (s == "running") return QColor(30, 110, 200);
  if (s == "failed" || s == "diverged") return QColor(200, 50, 50);
  if (s == "interrupted" || s == "cancelled") return QColor(200, 130, 0);
  return {};
}
}  // namespace

QVariant RunsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const RunRow& r = rows_[static_cast<size_t>(index.row())];
  if (role == Qt::UserRole) return QVariant::fromValue<qlonglong>(r.id);
  if (role == Qt::ForegroundRole && index.column() == Status) {
    const QColor c = status_colour(r.status);
    return c.isValid() ? QVariant(QBrush(c)) : QVariant();
  }
  if (role == Qt::ToolTipRole) {
    if (index.column() == Status && !r.message.empty()) return QString::fromStdString(r.message);
    if (index.column() == Scores) return scores_text(r).replace(" · ", "\n");
    if (index.column() == Variant)
      return tr("IMSM gate variant: query (the paper's query-aware gate), no-query, no-gate (½ + ½), none (the PEFT method alone)");
    return QString::fromStdString(r.name);
  }
  const bool sort = role == Qt::UserRole + 1;  // numbers for sorting
  if (role != Qt::DisplayRole && !sort) return {};
  switch (index.column()) {
    case Id: return QVariant::fromValue<qlonglong>(r.id);
    case Kind: return QString::fromStdString(r.kind);
    case Status: return QString::fromStdString(r.status);
    case Method: return QString::fromStdString(r.method);
    case Variant: return QString::fromStdString(r.variant);
    case Seed: return r.kind == "train" || r.parent_run_id ? QVariant::fromValue<qlonglong>(r.seed) : QVariant();  // an eval: its adapter's seed
    case Steps: return r.steps ? QVariant::fromValue<qlonglong>(r.steps) : QVariant();
    case Loss: return r.final_loss < 0 ? QVariant() : sort ? QVariant(r.final_loss) : QVariant(QString::number(r.final_loss, 'f', 4));
    case Scores: return scores_text(r);
    case Started: return QString::fromStdString(r.started_at);
    case Duration: return sort ? QVariant(r.seconds) : QVariant(QString::fromStdString(format_duration(r.seconds)));
    default: return {};
  }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  static const char* const names[] = {"ID", "Kind", "Status", "Method", "Variant", "Seed", "Steps", "Final loss", "Scores", "Started", "Duration"};
  if (role == Qt::DisplayRole && section >= 0 && section < ColumnCount) return tr(names[section]);
  if (role == Qt::ToolTipRole && section >= 0 && section < ColumnCount) {
    static const char* const tips[] = {
        "The run's number in this workspace",
        "train: a fine-tuning run; eval: an evaluation of a model or adapter on a suite",
        "queued, running, finished, failed, diverged (loss not finite), cancelled (resumable) or interrupted "
        "(its process died; right-click to resume from the last checkpoint)",
        "The PEFT method, and IMSM on top of it: IMSM(LoRA) mixes the original and the fine-tuned model's memories through a gate",
        "IMSM's gate: query = the paper's query-aware gate; no-query = without the query terms; no-gate = a fixed ½ + ½ mix; "
        "none = the PEFT method alone",
        "The seed of adapter initialisation, dropout and data order",
        "Optimizer steps done so far",
        "Cross-entropy of the answer tokens at the last step (nats/token)",
        "Headline metric per benchmark of the run's evaluations",
        "When the run started (UTC)",
        "Wall-clock time of the run"};
    return tr(tips[section]);
  }
  return {};
}

}  // namespace imsm::ui
