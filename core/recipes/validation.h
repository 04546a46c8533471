// Evaluation during training — the official loop's test() after each epoch
// (docs/OFFICIAL.md #3) and what fine-tuners expect beyond it: the held-out
// set (test_data_path: its loss and the task's metrics) and, when asked, a
// forgetting suite's benchmarks (a live forgetting curve), at each epoch's end
// and every eval_steps optimizer steps; early stopping on a criterion; the
// best adapter kept. The model is evaluated as it is, dropout off, greedy:
// training draws the same random numbers with or without it.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/train_config.h"
#include "eval/suite.h"
#include "recipes/chat_format.h"
#include "util/run_protocol.h"

namespace imsm {

namespace dist {
class ProcessGroup;
}
class LlamaModel;
class Tokenizer;
class ImsmGate;

// The benchmark name of the held-out set in records and plots.
inline constexpr const char* kHeldOut = "held-out";

struct ValidationPlan {
  std::vector<Benchmark> sets;  // the held-out set first (when test_data_path), then the suite's benchmarks
  bool held_out = false;        // sets[0] is test_data_path: its loss is measured too ("Loss", nats per answer token)
  int64_t every_steps = 0;      // also every N optimizer steps (0: at each epoch's end only)
  int64_t batch_size = 8;
  std::string best_metric = "loss";  // the criterion: the held-out "loss", or one of its task's metrics
  int64_t patience = 0;              // stop after this many evaluations in a row without a new best (0: never)
  ChatFormat chat;                   // the run's prompts' format: run_train sets it to the training data's
  bool empty() const { return sets.empty(); }
};

// From the configuration's keys (test_data_path, eval_task, eval_steps,
// eval_examples, eval_suite, best_metric, early_stopping_patience); BadInput
// naming the key (an unknown task, a criterion without a held-out set, ...).
// made_later: files that are not there yet but will be made before training
// (a project preset's data and suite in the workbench): their keys are checked,
// the files not read, so the plan leaves out a suite made later.
ValidationPlan validation_plan(const TrainConfig& c, const std::function<bool(const std::string&)>& made_later = {});

// The task of a held-out set: eval_task, else the one the official dataset
// name or the file's path names ("llama3_lora_GSM8K" -> gsm8k); "" when none.
std::string held_out_task(const TrainConfig& c);

// Every set of the plan on the model as it is now: one record per score
// (held-out: "Loss" and the task's metrics; a suite benchmark: its headline
// metric). With a group every rank calls it and gets the same records.
std::vector<ValidationRecord> validate(const ValidationPlan& plan, const LlamaModel& model, const Tokenizer& tokenizer, const ImsmGate* gate,
                                       dist::ProcessGroup* group, int64_t step, int64_t epoch, const Hooks& hooks);

// The criterion's best value so far and the evaluations since it; saved in
// each checkpoint so that a resumed run keeps counting.
class EarlyStopping {
 public:
  explicit EarlyStopping(const ValidationPlan& plan);
  // Takes one evaluation's records; true when the criterion reached a new best (a NaN never does).
  bool observe(const std::vector<ValidationRecord>& records);
  bool should_stop() const { return patience_ > 0 && since_best_ >= patience_; }
  int64_t best_step() const { return best_step_; }  // 0: none yet
  double best_value() const { return best_; }
  nlohmann::json state() const;
  void load_state(const nlohmann::json& state, const std::string& where);

 private:
  std::string metric_;
  bool higher_is_better_;
  int64_t patience_;
  double best_ = 0;
  int64_t best_step_ = 0, since_best_ = 0;
};

}  // namespace imsm
