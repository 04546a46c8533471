// imsm make-rehearsal --model DIR --out FILE.jsonl --count N [--seed S] [...]
#include "commands.h"
#include "interrupt.h"
#include "recipes/self_rehearsal.h"
#include "setting_flags.h"
#include "util/log.h"

namespace imsm::cli {

void add_make_rehearsal(CLI::App& app, Run& run) {
  auto q = std::make_shared<RehearsalRequest>();
  RehearsalOptions& o = q->options;
  o.examples = 64;
  CLI::App* cmd = app.add_subcommand("make-rehearsal",
                                     "Write a self-synthesized rehearsal set: prompts the model samples from its own chat template "
                                     "and its greedy answers (what the train key replay_self_examples replays)");
  cmd->add_option("--model", q->source.model_dir, "Hugging Face model folder (the model before tuning)")->required();
  cmd->add_option("--out", q->out, "Output file (JSON lines: input, output, prompt_ids, answer_ids)")->required();
  cmd->add_option("--count", o.examples, "Records to write (distinct prompts that ended within --max-prompt-tokens)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the prompts' sampling")->capture_default_str();
  cmd->add_option("--max-prompt-tokens", o.max_prompt_tokens, "A prompt not ended by then is dropped (chat) or cut (no template)")
      ->capture_default_str();
  cmd->add_option("--max-answer-tokens", o.max_answer_tokens, "The greedy answer's limit")->capture_default_str();
  cmd->add_option("--max-input-length", o.max_input_length, "The answers' prompts cut to this many tokens, as a run cuts them")
      ->capture_default_str();
  cmd->add_option("--temperature", o.temperature, "The prompts' sampling temperature")->capture_default_str();
  cmd->add_option("--top-p", o.top_p, "The prompts' nucleus")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Rows generated together")->capture_default_str();
  cmd->add_option("--chat-template", q->chat_template, "auto, on, off or a Jinja template file")->capture_default_str();
  add_device_flag(cmd, q->source.device);
  add_dtype_flag(cmd, q->source.dtype, "auto, f32, bf16 or f16 (auto: as imsm generate)");
  cmd->callback([&run, q] {
    run = [q] {
      int64_t n = 0;
      run_with_progress("make-rehearsal", [&](const Hooks& hooks) { n = make_rehearsal(*q, hooks); });
      log::info("wrote " + std::to_string(n) + " records to " + q->out);
      return 0;
    };
  });
}

}  // namespace imsm::cli
