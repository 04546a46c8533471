#include "runs_model.h"

#include <QBrush>
#include <QColor>

#include <algorithm>

#include "report/results.h"
#include "store/run_report.h"
#include "util/table.h"

namespace imsm::ui {

QString run_title(const store::RunRecord& run) {
  return QString("%1 · %2 seed %3").arg(run.id).arg(QString::fromStdString(report::method_label(run.config_json))).arg(run.seed);
}

void RunsModel::set_rows(std::vector<RunSummary> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

const RunSummary* RunsModel::row_of(int64_t id) const {
  for (const auto& r : rows_)
    if (r.id == id) return &r;
  return nullptr;
}

int RunsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(rows_.size()); }
int RunsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

namespace {
QString scores_text(const RunSummary& r) {
  QStringList parts;
  for (const auto& [k, v] : r.scores) parts << QString::fromStdString(k) + " " + QString::number(v, 'f', 3);
  return parts.join(" · ");
}
QColor status_colour(RunStatus s) {
  switch (s) {
    case RunStatus::Finished: return QColor(46, 139, 87);
    case RunStatus::Running: return QColor(30, 110, 200);
    case RunStatus::Failed:
    case RunStatus::Diverged: return QColor(200, 50, 50);
    case RunStatus::Interrupted:
    case RunStatus::Cancelled: return QColor(200, 130, 0);
    case RunStatus::Queued: return {};
  }
  return {};
}
}  // namespace

QVariant RunsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const RunSummary& r = rows_[static_cast<size_t>(index.row())];
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
    case Status: return QString(status_name(r.status));
    case Method: return QString::fromStdString(r.method);
    case Variant: return QString::fromStdString(r.variant);
    case Seed: return r.kind == "train" || r.parent_run_id ? QVariant::fromValue<qlonglong>(r.seed) : QVariant();  // an eval: its adapter's seed
    case Sweep: return QString::fromStdString(r.sweep);
    case Steps: return r.steps ? QVariant::fromValue<qlonglong>(r.steps) : QVariant();
    case Loss: return r.final_loss < 0 ? QVariant() : sort ? QVariant(r.final_loss) : QVariant(QString::number(r.final_loss, 'f', 4));
    case Scores: return scores_text(r);
    case Started: return QString::fromStdString(r.started_at);
    case Duration: return sort ? QVariant(r.seconds) : QVariant(QString::fromStdString(format_duration(r.seconds)));
    case PeakMemory:
      return sort ? QVariant::fromValue<qlonglong>(std::max(r.peak.gpu_memory_bytes, r.peak.rss_bytes))
                  : QVariant(QString::fromStdString(store::peak_memory_text(r.peak)));
    default: return {};
  }
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  static const char* const names[] = {"ID", "Kind", "Status", "Method", "Variant", "Seed", "Sweep", "Steps", "Final loss", "Scores", "Started", "Duration", "Peak memory"};
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
        "The sweep grid the run is a cell of (Run > New run > Sweep a grid); sort by it to see each sweep as one group, "
        "right-click to select its runs or chart a metric against a swept key",
        "Optimizer steps done so far",
        "Cross-entropy of the answer tokens at the last step (nats/token)",
        "Headline metric per benchmark of the run's evaluations",
        "When the run started (UTC)",
        "Wall-clock time of the run",
        "The most memory the run held, from the resource monitor's samples: on a GPU the most used on it (NVML, every "
        "process's), else the process's resident memory"};
    return tr(tips[section]);
  }
  return {};
}

}  // namespace imsm::ui
