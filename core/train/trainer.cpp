#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <cstring>

#include "io/json_file.h"
#include "train/data_parallel.h"
#include "io/safetensors.h"
#include "model/rng_snapshot.h"
#include "model/tensor_io.h"
#include "util/error.h"

namespace imsm {

double scheduled_lr(const TrainOptions& o, int64_t step, int64_t total) {
  const int64_t warmup = static_cast<int64_t>(std::ceil(o.warmup_ratio * static_cast<double>(total)));
  if (step < warmup) return o.learning_rate * static_cast<double>(step + 1) / static_cast<double>(warmup);
  if (o.lr_schedule == LrSchedule::None) return o.learning_rate;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  if (o.lr_schedule == LrSchedule::Linear) return o.learning_rate * std::max(0.0, 1.0 - progress);
  return o.learning_rate * 0.5 * (1.0 + std::cos(M_PI * progress));  // cosine to zero (transformers' schedule)
}

Trainer::Trainer(TrainingTarget& target, const std::vector<EncodedExample>& data, const TrainOptions& o, dist::ProcessGroup* group)
    : target_(target), data_(data), options_(o), group_(group) {
  if (data.empty()) throw_bad_input("dataset", "no training examples");
  if (o.batch_size <= 0 || o.accumulation_steps <= 0 || o.num_epochs <= 0)
    throw_bad_input("config", "batch_size, accumulation_steps and num_epochs must be positive");
  if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate)) throw_bad_input("learning_rate", "must be a positive number");
  torch::manual_seed(o.seed);  // dropout masks
  std::vector<NamedParameter> named = target.parameters();
  if (named.empty()) throw_internal("Trainer: the target has nothing to train");
  for (const auto& p : named) params_.push_back(p.tensor);
  optimizer_ = make_optimizer(o.optimizer, std::move(named), o.weight_decay);
  const int64_t n = static_cast<int64_t>(data.size());
  if (o.replay.active() && (o.replay.task_examples == 0 || o.replay.task_examples >= data.size()))
    throw_internal("Trainer: a replay plan needs task examples and general data");
  micro_per_epoch_ = o.replay.active() ? replay_batches_per_epoch(o.replay, o.batch_size) : (n + o.batch_size - 1) / o.batch_size;
  total_ = (micro_per_epoch_ + o.accumulation_steps - 1) / o.accumulation_steps * o.num_epochs;
  target.begin(total_);
}

Trainer::~Trainer() = default;

std::vector<std::vector<size_t>> Trainer::epoch_order() const {
  const TrainOptions& o = options_;
  return o.replay.active() ? replay_batches(o.replay, data_.size() - o.replay.task_examples, o.batch_size, o.seed, epoch_)
                           : epoch_batches(data_, o.batch_size, o.seed + static_cast<uint64_t>(epoch_), o.group_by_length);
}

StepSums Trainer::compute_gradients(const std::vector<std::vector<size_t>>& batches, const Hooks& hooks) {
  StepSums sums;
  const int64_t in_step = std::min(options_.accumulation_steps, micro_per_epoch_ - micro_);
  for (int64_t a = 0; a < in_step; ++a, ++micro_) {
    // One process: the whole micro-batch. With a group: this rank's shard, its loss weighted by its share
    // of the global micro-batch's scored tokens (train/data_parallel.h).
    const std::vector<size_t>& global = batches[static_cast<size_t>(micro_)];
    const std::vector<size_t> rows_of = group_ ? shard(global, group_->rank(), group_->size()) : global;
    if (rows_of.empty()) continue;  // a short last batch: nothing here, zeros in the all-reduce
    double weight = 1.0;            // exact: with one process the loss is scaled as before, bit for bit
    if (group_) {
      int64_t scored_all = 0, scored_mine = 0;
      for (size_t i : global) scored_all += scored_tokens(data_[i]);
      for (size_t i : rows_of) scored_mine += scored_tokens(data_[i]);
      weight = scored_all ? static_cast<double>(scored_mine) / static_cast<double>(scored_all) : 0.0;
    }
    std::vector<const EncodedExample*> rows;
    for (size_t i : rows_of) rows.push_back(&data_[i]);
    const TrainBatch batch = collate(rows, target_.device());
    const torch::Tensor loss = target_.loss(batch);  // scalar: the mean over the rows' scored tokens
    (loss * weight / static_cast<double>(in_step)).backward();
    sums.loss += loss.item<double>() * weight / static_cast<double>(in_step);
    sums.tokens += batch.tokens;
  }
  if (!group_) return sums;
  sums = all_reduce_step(*group_, params_, sums.loss, sums.tokens, hooks.aborted());
  stop_voted_ = sums.stop;
  return sums;
}

double Trainer::gradient_norm() {
  if (options_.max_grad_norm > 0) return torch::nn::utils::clip_grad_norm_(params_, options_.max_grad_norm);
  double squares = 0;
  for (const auto& p : params_)
    if (p.grad().defined()) squares += p.grad().pow(2).sum().item<double>();
  return std::sqrt(squares);
}

namespace {
// Dropout on while training, off however the training ends.
struct TrainingMode {
  TrainingTarget& target;
  explicit TrainingMode(TrainingTarget& t) : target(t) { target.set_training(true); }
  ~TrainingMode() { target.set_training(false); }
};
}  // namespace

double Trainer::apply_step(double lr, double loss) {
  const double grad_norm = gradient_norm();
  optimizer_->step(lr);
  target_.after_optimizer_step(step_);  // AdaLoRA: importance and rank allocation, gradients still here
  ++step_;
  losses_.push_back(loss);
  return grad_norm;
}

TrainOutcome Trainer::run(const Hooks& hooks, const std::function<void(const Trainer&)>& on_checkpoint, int64_t save_steps,
                          const EvalSchedule& eval) {
  using Clock = std::chrono::steady_clock;
  const TrainingMode mode(target_);
  TrainOutcome outcome;
  const auto start = Clock::now();
  const int64_t first_step = step_;
  int64_t tokens_seen = 0;
  auto checkpoint = [&] {
    gather_rng_states();  // every rank, at the same step
    on_checkpoint(*this);
  };
  auto evaluate = [&] {  // true: stop here (dropout off while it evaluates)
    target_.set_training(false);
    const bool stop = eval.evaluate(*this);
    target_.set_training(true);
    return stop;
  };
  while (epoch_ < options_.num_epochs) {
    const auto batches = epoch_order();
    while (micro_ < micro_per_epoch_) {
      if (group_ ? stop_voted_ : hooks.aborted()) {
        gather_rng_states();  // the recipe checkpoints a cancelled run
        throw Error(ErrorKind::Cancelled, "training cancelled at step " + std::to_string(step_));
      }
      const double lr = scheduled_lr(options_, step_, total_);
      optimizer_->zero_grad();
      const StepSums sums = compute_gradients(batches, hooks);
      tokens_seen += sums.tokens;
      if (!std::isfinite(sums.loss)) {
        outcome.status = RunStatus::Diverged;
        losses_.push_back(sums.loss);
        break;
      }
      const double grad_norm = apply_step(lr, sums.loss);
      if (hooks.on_step) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const double done = static_cast<double>(step_ - first_step);
        hooks.on_step(StepRecord{.step = step_, .total_steps = total_, .epoch = epoch_, .loss = sums.loss, .learning_rate = lr,
                                 .grad_norm = grad_norm, .tokens_per_second = tokens_seen / std::max(elapsed, 1e-9),
                                 .eta_seconds = elapsed / done * static_cast<double>(total_ - step_)});
      }
      if (micro_ == micro_per_epoch_) break;  // the epoch's end: evaluated and checkpointed below
      if (eval.evaluate && eval.every_steps > 0 && step_ % eval.every_steps == 0 && evaluate()) {
        outcome.stopped_early = true;
        break;
      }
      if (on_checkpoint && save_steps > 0 && step_ % save_steps == 0) checkpoint();
    }
    if (outcome.status != RunStatus::Finished || outcome.stopped_early) break;
    if (eval.evaluate && evaluate()) outcome.stopped_early = true;  // the official loop's test() after each epoch
    ++epoch_;
    micro_ = 0;
    if (outcome.stopped_early) break;
    if (on_checkpoint) checkpoint();  // at the start of the next epoch
  }
  outcome.losses = losses_;
  outcome.steps = step_;
  return outcome;
}

namespace {

// The generators dropout draws from: the CPU's always, and on CUDA the
// training device's ("cuda"), so a resumed run draws the same masks.
std::vector<std::pair<std::string, torch::Tensor>> rng_states(torch::Device device) {
  const RngSnapshot now = RngSnapshot::take(device);
  std::vector<std::pair<std::string, torch::Tensor>> out = {{"cpu", now.cpu}};
  if (now.cuda.defined()) out.emplace_back("cuda", now.cuda);
  return out;
}

void restore_rng_states(const std::vector<std::pair<std::string, torch::Tensor>>& states, torch::Device device,
                        const std::string& path) {
  auto find = [&](const std::string& name) {
    for (const auto& [key, state] : states)
      if (key == name) return state;
    throw_bad_input(path, "missing tensor \"" + name + "\"" +
                              (name == "cuda" ? " (the checkpoint was made on CPU; resume it with device cpu)" : ""));
  };
  RngSnapshot saved;
  saved.device = device;
  saved.cpu = find("cpu");
  if (device.is_cuda()) saved.cuda = find("cuda");
  saved.restore();
}

// Rank r's generators are stored as "rank<r>.cpu" ("rank<r>.cuda"); rank 0's
// (and one process's) as "cpu", "cuda".
std::string rng_name(int rank, const std::string& generator) { return rank == 0 ? generator : "rank" + std::to_string(rank) + "." + generator; }

}  // namespace

void Trainer::gather_rng_states() {
  if (!group_) return;
  ranks_rng_.clear();
  for (const auto& [generator, state] : rng_states(target_.device())) {
    const torch::Tensor bytes = state.contiguous();  // [n] uint8
    const auto all = group_->all_gather(std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.numel())));
    for (size_t r = 0; r < all.size(); ++r) {
      torch::Tensor t = torch::empty({static_cast<int64_t>(all[r].size())}, torch::kUInt8);  // [n] uint8
      std::memcpy(t.data_ptr(), all[r].data(), all[r].size());
      ranks_rng_.emplace_back(rng_name(static_cast<int>(r), generator), t);
    }
  }
}

void Trainer::save_state(const std::string& dir) const {
  std::filesystem::create_directories(dir);
  save_tensors((std::filesystem::path(dir) / "optimizer.safetensors").string(), optimizer_->state());
  save_tensors((std::filesystem::path(dir) / "rng.safetensors").string(), group_ ? ranks_rng_ : rng_states(target_.device()));
  const auto peft_state = target_.training_state();
  if (!peft_state.empty()) save_tensors((std::filesystem::path(dir) / "peft_state.safetensors").string(), peft_state);
  json::write_file((std::filesystem::path(dir) / "trainer_state.json").string(),
                   {{"step", step_}, {"epoch", epoch_}, {"micro_batch", micro_}, {"total_steps", total_},
                    {"losses", losses_}, {"seed", options_.seed}, {"optimizer", optimizer_kinds().name(options_.optimizer)},
                    {"processes", group_ ? group_->size() : 1}},
                   1);
}

void Trainer::load_state(const std::string& dir) {
  const std::string state_path = (std::filesystem::path(dir) / "trainer_state.json").string();
  const auto j = json::read_file(state_path);
  if (json::get_int(j, "total_steps", state_path) != total_)
    throw_bad_input(state_path, "the checkpoint was made with another dataset, batch size or epoch count (" +
                                    std::to_string(json::get_int(j, "total_steps", state_path)) + " total steps, now " +
                                    std::to_string(total_) + ")");
  if (json::get_string(j, "optimizer", state_path) != optimizer_kinds().name(options_.optimizer))
    throw_bad_input(state_path, "the checkpoint was made with optimizer " + json::get_string(j, "optimizer", state_path));
  const int64_t processes = json::get_int_or(j, "processes", 1, state_path), now = group_ ? group_->size() : 1;
  if (processes != now)
    throw_bad_input(state_path, "the checkpoint was made by " + std::to_string(processes) + " process(es), this run has " + std::to_string(now) +
                                    ": resume with torchrun --nproc-per-node " + std::to_string(processes) + " (each process's share of a batch depends on it)");
  step_ = json::get_int(j, "step", state_path);
  epoch_ = json::get_int(j, "epoch", state_path);
  micro_ = json::get_int(j, "micro_batch", state_path);
  losses_ = json::require(j, "losses", state_path).get<std::vector<double>>();
  const std::string opt_path = (std::filesystem::path(dir) / "optimizer.safetensors").string();
  const SafetensorsFile opt = SafetensorsFile::open(opt_path);
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& t : opt.tensors())
    state.emplace_back(t.name, to_tensor(t, opt.mapping(), target_.device(), t.dtype == DType::I64 ? torch::kInt64 : params_.at(0).scalar_type()));
  optimizer_->load_state(state, opt_path);
  const std::string peft_path = (std::filesystem::path(dir) / "peft_state.safetensors").string();
  if (std::filesystem::exists(peft_path)) {
    const SafetensorsFile peft = SafetensorsFile::open(peft_path);
    std::vector<std::pair<std::string, torch::Tensor>> peft_state;
    for (const auto& t : peft.tensors())
      peft_state.emplace_back(t.name, to_tensor(t, peft.mapping(), target_.device(), t.dtype == DType::U8 ? torch::kUInt8 : params_.at(0).scalar_type()));
    target_.load_training_state(peft_state);
  }
  const std::string rng_path = (std::filesystem::path(dir) / "rng.safetensors").string();
  const SafetensorsFile rng = SafetensorsFile::open(rng_path);
  std::vector<std::pair<std::string, torch::Tensor>> rng_state;
  const int rank = group_ ? group_->rank() : 0;
  for (const auto& t : rng.tensors()) {  // this rank's generators, under the names rank 0's have
    for (const std::string generator : {"cpu", "cuda"})
      if (t.name == rng_name(rank, generator)) rng_state.emplace_back(generator, to_tensor(t, rng.mapping(), torch::kCPU, torch::kUInt8).clone());
  }
  restore_rng_states(rng_state, target_.device(), rng_path);
}

}  // namespace imsm
