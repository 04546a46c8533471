// imsm train --config FILE.json [--set key=value ...] [--workspace FILE]
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "dist/launch.h"
#include "interrupt.h"
#include "progress_bar.h"
#include "recipes/memory_check.h"
#include "recipes/train.h"
#include "recipes/validation.h"
#include "recipes/train_record.h"
#include "store/workspace.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm::cli {

namespace {

// One evaluation during training on one line: "step 40 (epoch 1): held-out Loss 1.2345 EM 0.4500 · qa Contain 0.3100".
std::string validation_line(const std::vector<ValidationRecord>& records) {
  std::string line = "validation at step " + std::to_string(records.front().step) + " (epoch " + std::to_string(records.front().epoch + 1) + "):";
  std::string benchmark;
  for (const ValidationRecord& r : records) {
    if (r.benchmark != benchmark) line += (benchmark.empty() ? " " : " · ") + r.benchmark;
    benchmark = r.benchmark;
    char value[48];
    std::snprintf(value, sizeof(value), " %s %.4f", r.metric.c_str(), r.value);
    line += value;
  }
  return line;
}

}  // namespace

int train_with_progress(const std::function<TrainSummary(const Hooks&, int64_t& run_id)>& train,
                        const std::function<std::string(const std::string& last_checkpoint, int64_t run_id)>& resume_hint) {
  TrainSummary s;
  int64_t run_id = 0;
  std::string last_checkpoint;
  try {
    SigintScope ctrl_c;  // Ctrl-C: stop after the current step, with a checkpoint
    ProgressBar bar("train");
    std::vector<ValidationRecord> scores;  // of the evaluation under way, printed as one line
    auto print_scores = [&] {
      if (!scores.empty()) log::info(validation_line(scores));
      scores.clear();
    };
    Hooks hooks;
    hooks.on_step = [&](const StepRecord& p) {
      print_scores();
      bar.update(p);
    };
    hooks.on_event = [&](const RunEvent& e) {
      if (e.kind == RunEvent::Kind::Checkpoint) last_checkpoint = e.path;
      if (e.kind == RunEvent::Kind::Validation) scores.push_back(e.validation);
      if (e.kind == RunEvent::Kind::BestAdapter) print_scores();
    };
    hooks.should_abort = [] { return SigintScope::requested(); };
    s = train(with_requested_event_lines(hooks), run_id);
    print_scores();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) throw;
    log::info(std::string(e.what()) + "; resume with: " + resume_hint(last_checkpoint, run_id));
    return 130;
  }
  char line[256];
  std::snprintf(line, sizeof(line), "%s: %lld/%lld steps in %s, %lld examples, %lld trainable parameters, final loss %.4f",
                status_name(s.status), static_cast<long long>(s.steps), static_cast<long long>(s.total_steps),
                format_duration(s.seconds).c_str(), static_cast<long long>(s.examples),
                static_cast<long long>(s.trainable_parameters), s.losses.empty() ? 0.0 : s.losses.back());
  log::info(line);
  if (s.memory_peak_bytes > 0)
    log::info("memory: peak " + format_bytes(s.memory_peak_bytes) + " measured (what the run added to this process), " +
              format_bytes(s.memory_estimate_bytes) + " estimated (imsm train --dry-run)");
  if (s.stopped_early) log::info("stopped early: no better held-out score in early_stopping_patience evaluations");
  if (!s.best_adapter_dir.empty()) {
    char best[160];
    std::snprintf(best, sizeof(best), "best adapter (held-out %.4f at step %lld): ", s.best_value, static_cast<long long>(s.best_step));
    log::info(best + s.best_adapter_dir);
  }
  if (s.status == RunStatus::Finished) {
    log::info("adapter written to " + s.adapter_dir);
    return 0;
  }
  std::cerr << "imsm: error: training diverged at step " << s.steps << " (loss not finite): lower learning_rate or raise num_warmup_ratio\n";
  return 1;
}

// Every check run_train makes before it loads the model (inputs, evaluation keys, memory), so that a
// refusal is one line; --dry-run prints the memory estimate instead of training (exit 1: it does not fit).
int preflight(const TrainConfig& c, bool dry_run) {
  if (const std::string missing = missing_input(c); !missing.empty()) {
    const size_t colon = missing.find(':');
    throw_bad_input(missing.substr(0, colon), missing.substr(colon + 2));
  }
  validation_plan(c);
  const MemoryCheck m = check_memory(c, dry_run || c.memory_check, training_row_lengths(c));
  if (dry_run) {
    std::cout << memory_report(m);
    return m.fits() ? 0 : 1;
  }
  if (!m.fits()) throw_bad_input("memory_check", memory_refusal(m));
  return 0;
}

void add_train(CLI::App& app, Run& run) {
  auto config = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto workspace = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  auto help_keys = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune with a PEFT method and IMSM (official config.json keys)");
  cmd->add_option("--config", *config, "Training configuration (JSON): the official IMSM keys plus variant, target_modules, seed, output_dir, ... (required)");
  cmd->add_option("--set", *sets, "Override a key: --set learning_rate=1e-3 --set variant=none");
  cmd->add_option("--workspace", *workspace, "Record the run (config, per-step metrics, checkpoints, adapter) in this SQLite workspace");
  cmd->add_flag("--dry-run", *dry_run,
                "Check the configuration and print the run's memory estimate against the device's free memory; train nothing "
                "(exit 0: it fits, 1: it does not)");
  cmd->add_flag("--help-keys", *help_keys, "Print every key of the configuration: its type, choices or range, default and what it does");
  cmd->callback([&run, config, sets, workspace, dry_run, help_keys] {
    run = [config, sets, workspace, dry_run, help_keys] {
      if (*help_keys) {
        std::cout << format_train_keys();
        return 0;
      }
      if (config->empty()) throw_bad_input("--config", "give the training configuration, imsm train --config FILE.json (imsm train --help-keys lists its keys)");
      const TrainConfig c = read_train_config(*config, *sets);
      if (*dry_run) return preflight(c, true);
      if (!dist::launch_from_environment().writer())  // a torchrun rank other than 0: rank 0 writes the adapter, checkpoints, workspace
        return run_as_follower([&](const Hooks& hooks) { run_train(c, hooks); });  // a divergence: rank 0 says so
      if (!workspace->empty()) store::Workspace check(*workspace);  // refused before any work starts
      preflight(c, false);
      log::info("training " + method_name(c.peft) + " + IMSM variant " + variant_name(c.variant) + " on " + c.data_path + " -> " + c.output_dir);
      return train_with_progress(
          [&](const Hooks& hooks, int64_t& run_id) {
            if (workspace->empty()) return run_train(c, hooks);
            Hooks h = hooks;
            h.on_event = [&](const RunEvent& e) {
              if (e.kind == RunEvent::Kind::RunCreated) {
                run_id = e.run_id;
                log::info("recording as run " + std::to_string(e.run_id) + " in " + *workspace);
              }
              hooks.event(e);
            };
            return run_train_recorded(*workspace, c, h).summary;
          },
          [&](const std::string& last_checkpoint, int64_t run_id) {
            return run_id ? "imsm runs resume " + std::to_string(run_id) + " --workspace " + *workspace
                          : "imsm train --config " + *config + " --set resume_from=" + last_checkpoint;
          });
    };
  });
}

}  // namespace imsm::cli
