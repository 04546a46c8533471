// imsm pretrain --recipe FILE.json
#include <cstdio>

#include "commands.h"
#include "interrupt.h"
#include "progress_bar.h"
#include "recipes/pretrain.h"
#include "util/log.h"

namespace imsm::cli {

void add_pretrain(CLI::App& app, Run& run) {
  auto recipe = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("pretrain", "Pretrain a small base model from scratch on WordNet knowledge, with its own BPE tokenizer");
  cmd->add_option("--recipe", *recipe, "Pretraining recipe (JSON): output_dir, seed, corpus, tokenizer, model, training, probes")->required();
  cmd->callback([&run, recipe] {
    run = [recipe] {
      PretrainSummary s;
      {
        SigintScope ctrl_c;
        ProgressBar bar("pretrain");
        std::string stage;
        s = run_pretrain(*recipe, [&](const PretrainProgress& p) {
          if (p.stage != "training") {
            if (p.stage != stage) log::info(p.stage + "...");
            stage = p.stage;
            return;
          }
          char detail[128];
          std::snprintf(detail, sizeof(detail), "epoch %lld loss %.4f lr %.2e %.0f tok/s", static_cast<long long>(p.epoch + 1), p.loss,
                        p.learning_rate, p.tokens_per_second);
          bar.update(p.step, p.total_steps, p.eta_seconds, detail);
        }, [] { return SigintScope::requested(); });
      }
      char line[320];
      std::snprintf(line, sizeof(line), "%s: %lld parameters, %lld documents (%lld tokens), %lld steps in %s, last epoch loss %.4f, probes Contain %.3f EM %.3f",
                    s.status.c_str(), static_cast<long long>(s.parameters), static_cast<long long>(s.documents),
                    static_cast<long long>(s.tokens_per_epoch), static_cast<long long>(s.steps), format_duration(s.seconds).c_str(),
                    s.final_loss, s.probe_contain, s.probe_em);
      log::info(line);
      if (s.status == "finished") {
        log::info("model written to " + s.output_dir);
        return 0;
      }
      return s.status == "cancelled" ? 130 : 1;
    };
  });
}

}  // namespace imsm::cli
