// imsm train --config FILE.json [--set key=value ...]
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "progress_bar.h"
#include "recipes/environment.h"
#include "recipes/train.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm::cli {

namespace {
// Ctrl-C asks the run to stop after the current step (a checkpoint is written);
// a signal handler can only reach process state, hence this one flag.
std::atomic<bool> g_interrupted{false};
void on_sigint(int) { g_interrupted.store(true); }
}  // namespace

void add_train(CLI::App& app, Run& run) {
  auto config = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("train", "Fine-tune with a PEFT method and IMSM (official config.json keys)");
  cmd->add_option("--config", *config, "Training configuration (JSON): the official IMSM keys plus variant, target_modules, seed, output_dir, ...")->required();
  cmd->add_option("--set", *sets, "Override a key: --set learning_rate=1e-3 --set variant=none");
  cmd->callback([&run, config, sets] {
    run = [config, sets] {
      const TrainConfig c = read_train_config(*config, *sets);
      const std::string warning = blas_warning_line();
      if (!warning.empty()) log::warn(warning);
      log::info("training " + c.peft + " + IMSM variant " + c.variant + " on " + c.data_path + " -> " + c.output_dir);
      std::signal(SIGINT, on_sigint);
      TrainSummary s;
      {
        ProgressBar bar("train");
        s = run_train(c, [&](const TrainProgress& p) {
          char detail[160];
          std::snprintf(detail, sizeof(detail), "epoch %lld loss %.4f lr %.2e |g| %.3f %.0f tok/s", static_cast<long long>(p.epoch + 1),
                        p.loss, p.learning_rate, p.grad_norm, p.tokens_per_second);
          bar.update(p.step, p.total_steps, p.eta_seconds, detail);
        }, [] { return g_interrupted.load(); });
      }
      std::signal(SIGINT, SIG_DFL);
      char line[256];
      std::snprintf(line, sizeof(line), "%s: %lld/%lld steps in %s, %lld examples, %lld trainable parameters, final loss %.4f",
                    s.status.c_str(), static_cast<long long>(s.steps), static_cast<long long>(s.total_steps),
                    format_duration(s.seconds).c_str(), static_cast<long long>(s.examples),
                    static_cast<long long>(s.trainable_parameters), s.losses.empty() ? 0.0 : s.losses.back());
      log::info(line);
      if (s.status == "finished") {
        log::info("adapter written to " + s.adapter_dir);
        return 0;
      }
      if (s.status == "cancelled") {
        log::info("stopped; resume with: imsm train --config " + *config + " --set resume_from=" + s.last_checkpoint);
        return 130;
      }
      std::cerr << "imsm: error: training diverged at step " << s.steps << " (loss not finite): lower learning_rate or raise num_warmup_ratio\n";
      return 1;
    };
  });
}

}  // namespace imsm::cli
