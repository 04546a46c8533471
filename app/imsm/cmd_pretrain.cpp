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
        Hooks hooks;
        hooks.on_progress = [](const Progress& p) { log::info(p.stage + "..."); };
        hooks.on_step = [&](const StepRecord& p) { bar.update(p); };
        hooks.should_abort = [] { return SigintScope::requested(); };
        s = run_pretrain(*recipe, hooks);
      }
      char line[320];
      std::snprintf(line, sizeof(line), "%s: %lld parameters, %lld documents (%lld tokens), %lld steps in %s, last epoch loss %.4f, probes Contain %.3f EM %.3f",
                    status_name(s.status), static_cast<long long>(s.parameters), static_cast<long long>(s.documents),
                    static_cast<long long>(s.tokens_per_epoch), static_cast<long long>(s.steps), format_duration(s.seconds).c_str(),
                    s.final_loss, s.probe_contain, s.probe_em);
      log::info(line);
      if (s.status == RunStatus::Finished) {
        log::info("model written to " + s.output_dir);
        return 0;
      }
      return 1;  // diverged (cancel throws: exit 130 in main)
    };
  });
}

}  // namespace imsm::cli
