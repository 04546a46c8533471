#include "recipes/arena.h"

#include "recipes/chat_format.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace imsm {
namespace {

void check_request(const LoadedModel& loaded, const ArenaRequest& r) {
  if (!loaded.gate)
    throw_bad_input(loaded.source.adapter_dir.empty() ? "--adapter" : loaded.source.adapter_dir,
                    "the arena compares an IMSM adapter's two memories and their mix: give a run's IMSM adapter "
                    "(a PEFT adapter alone: imsm generate --adapter)");
  if (!loaded.tokenizer) throw_bad_input(loaded.source.model_dir, "has no tokenizer: the arena renders and decodes text");
  if (r.messages.empty() || r.messages.back().role != "user")
    throw_bad_input("conversation", "must end with the user's turn, which the three sides answer");
  if (r.max_new_tokens <= 0) throw_bad_input("max_new_tokens", "must be positive");
  if (!(r.temperature >= 0)) throw_bad_input("temperature", "must be 0 (greedy) or positive");
  if (!(r.top_p > 0 && r.top_p <= 1)) throw_bad_input("top_p", "must be in (0, 1]");
  if (r.top_k < 0) throw_bad_input("top_k", "must be 0 or positive");
}

// The conversation's ids: through the chat template with the generation
// prompt; without one, the messages' texts one per line, as a bare prompt.
std::vector<int32_t> prompt_ids(const LoadedModel& loaded, const ChatFormat& format, const std::vector<ChatMessage>& messages) {
  if (format.on())
    return loaded.tokenizer->encode(render_messages(format, messages, true), false);
  std::string text;
  for (const ChatMessage& m : messages) text += (text.empty() ? "" : "\n") + m.content;
  return loaded.tokenizer->encode(text, true);
}

GenerateRequest side_request(const ArenaRequest& r, const std::vector<int32_t>& prompt, ArenaSide side) {
  GenerateRequest g;
  g.use_prompt_ids = true;
  g.prompt_ids = prompt;
  g.max_new_tokens = r.max_new_tokens;
  g.temperature = r.temperature;
  g.top_p = r.top_p;
  g.seed = r.seed;
  g.trace_top_k = r.top_k;
  g.clamp = side != ArenaSide::Imsm;  // 1: the original memory alone, 0: the fine-tuned one alone
  g.clamp_value = side == ArenaSide::Base ? 1.0 : 0.0;
  return g;
}

}  // namespace

const std::vector<ArenaSide>& arena_sides() {
  static const std::vector<ArenaSide> sides = {ArenaSide::Base, ArenaSide::Tuned, ArenaSide::Imsm};
  return sides;
}

std::string arena_side_name(ArenaSide side) {
  return side == ArenaSide::Base ? "base" : side == ArenaSide::Tuned ? "tuned" : "imsm";
}

ArenaTurn answer_in_arena(const LoadedModel& loaded, const ArenaRequest& r,
                          const std::function<void(ArenaSide, const std::string&)>& on_text, const Hooks& hooks) {
  check_request(loaded, r);
  const ChatFormat format = resolve_chat_format(r.chat_template, loaded.source.model_dir, "chat_template");
  ArenaTurn turn;
  turn.chat_format = describe_chat_format(format, "chat_template");
  turn.prompt_ids = prompt_ids(loaded, format, r.messages);
  for (const ArenaSide side : arena_sides()) {
    const auto show = [&on_text, side](const std::string& text) {
      if (on_text) on_text(side, text);
    };
    turn.answers.push_back({side, run_generate(loaded, side_request(r, turn.prompt_ids, side), show, hooks)});
  }
  return turn;
}

}  // namespace imsm
