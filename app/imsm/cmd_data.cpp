// imsm make-data --task arith|wordnet-qa|wordnet-cloze|wordnet-yesno|wordnet-yesno-context|wordnet-corpus --out FILE.jsonl [--count N] [--seed S]
#include "commands.h"
#include "recipes/make_data.h"
#include "util/log.h"

namespace imsm::cli {

void add_make_data(CLI::App& app, Run& run) {
  auto q = std::make_shared<DataRequest>();
  CLI::App* cmd = app.add_subcommand("make-data", "Write a bundled dataset (JSON lines, official format), deterministic for a seed");
  cmd->add_option("--task", q->task, "arith (word problems, #### N), wordnet-qa, wordnet-cloze, wordnet-yesno (knowledge probes), wordnet-yesno-context (yes/no on a statement in view), wordnet-corpus (pretraining text)")->required();
  cmd->add_option("--out", q->out, "Output file (JSON lines)")->required();
  cmd->add_option("--count", q->count, "Records to write")->capture_default_str();
  cmd->add_option("--seed", q->seed)->capture_default_str();
  cmd->add_option("--wordnet", q->wordnet, "WordNet database folder (Debian: wordnet-base)")->capture_default_str();
  cmd->add_option("--concepts", q->concepts, "Nouns the knowledge is drawn from (most frequent first)")->capture_default_str();
  cmd->add_option("--max-steps", q->max_steps, "arith: operations per problem, 1 to 3")->capture_default_str();
  cmd->add_option("--max-operand", q->max_operand, "arith: the largest number drawn")->capture_default_str();
  cmd->callback([&run, q] {
    run = [q] {
      const int64_t n = make_data(*q);
      log::info("wrote " + std::to_string(n) + " records to " + q->out);
      return 0;
    };
  });
}

}  // namespace imsm::cli
