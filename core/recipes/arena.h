// Recipe: the chat arena. One conversation, answered side by side by the
// base model, a tuned run's adapter alone and the same adapter with IMSM's
// gate: three generations from one loaded IMSM adapter, its gate clamped to
// 1 (the original memory: the base model), to 0 (the fine-tuned memory: the
// PEFT adapter alone) and left to itself (the mix). Each streams its text as
// it is generated; the IMSM answer keeps each token's gate and the three
// streams' top candidates there (what the arena view colours and shows on
// hover). The conversation goes through the model's chat template
// (recipes/chat_format.h), ending with the assistant's turn opening. Kept in
// the workspace and written as Markdown: recipes/arena_record.h.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "recipes/generate.h"

namespace imsm {

struct ArenaRequest {
  std::vector<ChatMessage> messages;   // the conversation so far, ending with the user's turn
  std::string chat_template = "auto";  // auto | on | off | a template file, for the loaded model's folder
  int64_t max_new_tokens = 256;
  double temperature = 0;              // 0: greedy, the same answers every time (a reproducible comparison)
  double top_p = 1.0;
  uint64_t seed = 0;
  int64_t top_k = 5;                   // candidates per stream kept at each token
};

enum class ArenaSide { Base, Tuned, Imsm };
const std::vector<ArenaSide>& arena_sides();   // in the order they answer: base, tuned, IMSM
std::string arena_side_name(ArenaSide side);   // "base", "tuned", "imsm"

struct ArenaAnswer {
  ArenaSide side = ArenaSide::Base;
  GenerateResult result;  // ids, text, speed; the trace (gates, top candidates) of every side
};

struct ArenaTurn {
  std::vector<int32_t> prompt_ids;  // the rendered conversation
  std::string chat_format;          // describe_chat_format's line
  std::vector<ArenaAnswer> answers;
};

// BadInput before any generation: a loaded model without an IMSM adapter (the
// arena compares its two memories and their mix), a conversation that does
// not end with the user's turn, settings out of range. on_text(side, text)
// receives each answer's text as it grows. Cancel: the hooks' abort stops the
// answer being generated (Error Cancelled); progress ("generating", tokens,
// max_new_tokens) per answer.
ArenaTurn answer_in_arena(const LoadedModel& loaded, const ArenaRequest& request,
                          const std::function<void(ArenaSide, const std::string&)>& on_text, const Hooks& hooks = {});

}  // namespace imsm
