// The workspace: one SQLite file holding models, datasets, runs, per-step
// training metrics, evaluations, predictions, gate traces and artifacts.
// WAL mode, a busy timeout and short write transactions let a reader (the
// GUI, another process) read while a writer trains. Torch-free.
//
// Run lifecycle (util/run_protocol.h): queued -> running -> finished |
// failed | diverged | cancelled. Opening a workspace for writing turns a run left "running" by a process
// that no longer exists into "interrupted" (resumable from its checkpoint).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/resource_sample.h"
#include "util/run_protocol.h"

namespace imsm::sql {
class Database;
}

namespace imsm::store {

struct RunRecord {
  int64_t id = 0;
  std::string kind;       // train | eval
  std::string name;
  RunStatus status = RunStatus::Queued;
  std::string model_path, dataset_path;  // "" when none
  int64_t parent_run_id = 0;             // eval of a trained adapter: the training run (0: none)
  std::string config_json;               // the full resolved configuration
  int64_t seed = 0;
  std::string device, engine_version, output_dir, last_checkpoint, message;
  std::string created_at, started_at, ended_at;
};

struct Evaluation {
  std::string benchmark;  // the suite's name for the set (one set: the dataset's file stem)
  std::string task, metric;
  double value = 0;
  int64_t examples = 0;
  std::string dataset_path;    // filled when read back
  std::string dataset_sha256;  // filled when read back: the file's content when it was scored
};

struct TokenRecord {
  int32_t id = 0;
  std::string piece;
  float gate_mean = -1;     // < 0: no gate (stored as NULL)
  std::vector<float> gate;  // empty, or the full vector (stored as float16)
};

struct Prediction {
  int64_t example_index = 0;
  std::string input;
  std::vector<std::string> golds;
  std::string answer;
  std::vector<TokenRecord> tokens;
};

struct Artifact {
  std::string kind, path, sha256;
  int64_t bytes = 0;
};

struct ModelRecord {
  int64_t id = 0;
  std::string path, name, architecture, added_at;
  int64_t parameters = 0;
};

struct DatasetRecord {
  int64_t id = 0;
  std::string path, name, sha256, added_at;
  int64_t examples = 0;
};

// The most a run held while it ran, from its resource samples (-1: none recorded).
struct ResourcePeak {
  int64_t rss_bytes = -1;         // the process's resident memory
  int64_t gpu_memory_bytes = -1;  // the most used on any GPU (NVML: every process's on it)
};

// A chat-arena conversation with a training run (recipes/arena.h writes and
// reads its JSON; the workspace keeps it as text).
struct ConversationRecord {
  int64_t id = 0;  // 0: not saved yet
  int64_t run_id = 0;
  std::string title, settings_json, turns_json;
  std::string created_at, updated_at;  // UTC, ISO 8601
};

struct NewRun {
  std::string kind, name, model_path, dataset_path, config_json, device, output_dir;
  int64_t seed = 0;
  int64_t parent_run_id = 0;
};

class Workspace {
 public:
  enum class Mode { ReadWrite, ReadOnly };
  static constexpr const char* kDefaultPath = "workspace.imsm";

  // ReadWrite creates the file when missing and migrates it; ReadOnly needs
  // an existing workspace and never writes. BadInput naming the file when it
  // is not a workspace or has a newer schema.
  explicit Workspace(const std::string& path, Mode mode = Mode::ReadWrite);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  const std::string& path() const { return path_; }

  // --- writing (each call is one short transaction) ---
  int64_t add_model(const std::string& path, const std::string& architecture = "", int64_t parameters = 0);
  int64_t add_dataset(const std::string& path, int64_t examples = 0);  // keyed by path + sha256 of the content
  int64_t create_run(const NewRun& run);                               // status queued
  void start_run(int64_t run_id);                                      // -> running, by this process
  void finish_run(int64_t run_id, RunStatus status, const std::string& message = "");  // a final status
  void set_checkpoint(int64_t run_id, const std::string& path);
  void add_train_metrics(int64_t run_id, const std::vector<StepRecord>& rows);  // replaces rows of the same step
  void add_validation(int64_t run_id, const std::vector<ValidationRecord>& rows);  // replaces rows of the same step, set and metric
  void add_evaluations(int64_t run_id, const std::string& dataset_path, const std::vector<Evaluation>& rows);
  void add_predictions(int64_t run_id, const std::string& benchmark, const std::vector<Prediction>& rows);
  void add_artifact(int64_t run_id, const std::string& kind, const std::string& path);  // a file, or each file of a folder
  void add_resource_samples(int64_t run_id, const std::vector<ResourceSample>& rows);  // the monitor's, while the run ran
  // A new conversation (id 0: returns its id) or a saved one replaced (its id); BadInput for an unknown run or id.
  int64_t save_conversation(const ConversationRecord& conversation);
  // Runs of dead processes left "running" -> "interrupted"; returns their ids.
  std::vector<int64_t> mark_interrupted();

  // --- reading ---
  std::vector<ModelRecord> models() const;
  std::vector<DatasetRecord> datasets() const;  // each (path, content) once: a changed file is a new row
  std::vector<RunRecord> runs() const;
  RunRecord run(int64_t id) const;  // BadInput when there is no such run
  std::vector<StepRecord> train_metrics(int64_t run_id) const;  // total_steps, eta_seconds not stored (0)
  std::vector<ValidationRecord> validation(int64_t run_id) const;  // by step, then as recorded
  std::vector<Evaluation> evaluations(int64_t run_id) const;
  std::vector<Prediction> predictions(int64_t run_id, const std::string& benchmark, bool with_gate) const;
  std::vector<Artifact> artifacts(int64_t run_id) const;
  std::vector<ResourceSample> resource_samples(int64_t run_id) const;  // by time; none in a workspace older than schema 4
  std::vector<ConversationRecord> conversations(int64_t run_id) const;  // oldest first; none before schema 5
  ResourcePeak resource_peak(int64_t run_id) const;
  // The training run whose artifact of kind "adapter" is (a file in) `dir`.
  std::optional<int64_t> run_of_adapter(const std::string& dir) const;

 private:
  std::string path_;
  std::unique_ptr<sql::Database> db_;
};

}  // namespace imsm::store
