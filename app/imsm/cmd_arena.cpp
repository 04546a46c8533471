// imsm arena --model DIR --adapter IMSM_ADAPTER --chat CONVERSATION.json [--temperature T --top-p P --seed S]
//            [--max-new-tokens N] [--chat-template auto|on|off|FILE] [--markdown OUT.md] [--json]
#include <optional>
#include <iostream>

#include "commands.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "recipes/arena_record.h"
#include "setting_flags.h"
#include "trace_json.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm::cli {

namespace {

struct ArenaArgs {
  ModelSource source;
  std::string conversation, markdown;
  ArenaRequest request;
  bool json = false;
};

// --json: one object, a key per side with its ids, text and trace (gates, each stream's top candidates).
void print_json(const ArenaTurn& turn) {
  nlohmann::json out = {{"prompt_ids", turn.prompt_ids}, {"chat_template", turn.chat_format}};
  for (const ArenaAnswer& a : turn.answers)
    out[arena_side_name(a.side)] = {{"ids", a.result.ids}, {"text", a.result.text}, {"gate_mean", a.result.gate_mean},
                                    {"tokens_per_second", a.result.tokens_per_second}, {"trace", trace_json(a.result.trace)}};
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

int run_arena(ArenaArgs& a) {
  a.request.messages = read_conversation(a.conversation);  // a bad file fails before the model loads
  const auto loaded = load_model(a.source);
  SigintScope ctrl_c;  // Ctrl-C stops the answer being generated
  Hooks hooks;
  hooks.should_abort = [] { return SigintScope::requested(); };
  std::function<void(ArenaSide, const std::string&)> stream;
  if (!a.json)
    stream = [shown = std::optional<ArenaSide>()](ArenaSide side, const std::string& text) mutable {
      if (shown != side) std::cout << (shown ? "\n\n" : "") << "── " << arena_side_name(side) << " ──\n";
      shown = side;
      std::cout << text << std::flush;
    };
  const ArenaTurn turn = answer_in_arena(*loaded, a.request, stream, hooks);
  if (a.json) print_json(turn);
  else std::cout << std::endl;
  if (!a.markdown.empty()) {
    const ArenaConversation conversation{a.request, {saved_turn(a.request, turn)}};
    json::write_text_atomically(a.markdown, arena_conversation_markdown(loaded->source, conversation));
    log::info("the turn in Markdown: " + a.markdown);
  }
  return 0;
}

}  // namespace

void add_arena(CLI::App& app, Run& run) {
  auto a = std::make_shared<ArenaArgs>();
  CLI::App* cmd = app.add_subcommand("arena", "One conversation answered by the base model, an IMSM adapter's tuned memory alone and "
                                              "its IMSM mix, side by side (greedy unless --temperature > 0)");
  cmd->add_option("--model", a->source.model_dir, "Hugging Face model folder")->required();
  cmd->add_option("--adapter", a->source.adapter_dir, "An IMSM adapter (a run's adapter/ folder)")->required();
  cmd->add_option("--chat", a->conversation, "The conversation ([{\"role\", \"content\"}, ...]), ending with the user's turn")->required();
  cmd->add_option("--chat-template", a->request.chat_template, "auto (the model's own when it has one), on, off or a template file")
      ->capture_default_str();
  cmd->add_option("--max-new-tokens", a->request.max_new_tokens, "Each answer stops after this many tokens")->capture_default_str();
  cmd->add_option("--temperature", a->request.temperature, "0 = greedy (the same answers every time); > 0 samples")->capture_default_str();
  cmd->add_option("--top-p", a->request.top_p, "Sample within the smallest set of probability mass p")->capture_default_str();
  cmd->add_option("--seed", a->request.seed, "Seed of the sampler (each side starts from it)")->capture_default_str();
  cmd->add_option("--top-k", a->request.top_k, "Candidates per stream kept at each token (--json's trace)")->capture_default_str();
  cmd->add_option("--markdown", a->markdown, "Also write the turn (settings, conversation, the three answers) as Markdown here");
  add_device_flag(cmd, a->source.device);
  add_dtype_flag(cmd, a->source.dtype, "auto, f32, bf16 or f16");
  cmd->add_flag("--json", a->json, "Print one JSON object {prompt_ids, base, tuned, imsm} and nothing else on stdout");
  cmd->callback([&run, a] { run = [a] { return run_arena(*a); }; });
}

}  // namespace imsm::cli
