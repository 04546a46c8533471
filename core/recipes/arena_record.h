// Recipe component: chat-arena conversations as the workspace keeps them
// (store::ConversationRecord holds the JSON): the settings once, and per turn
// what the three sides answered (the IMSM answer's tokens with their gates)
// and which answer the conversation went on with. Read back, a conversation
// reopens where it stopped; it also goes out as Markdown.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "recipes/arena.h"

namespace imsm {

struct ArenaSavedTurn {
  std::vector<ChatMessage> messages;   // what the three answered, ending with the user's turn
  std::array<std::string, 3> answers;  // base, tuned, IMSM (arena_sides' order)
  std::vector<TokenTrace> imsm_tokens; // the IMSM answer's tokens: id, piece, gate_mean
  std::string continued_with;          // "base", "tuned", "imsm", or "" (not taken on)
};

struct ArenaConversation {
  ArenaRequest settings;  // without messages: the turns hold them
  std::vector<ArenaSavedTurn> turns;
};

ArenaSavedTurn saved_turn(const ArenaRequest& request, const ArenaTurn& turn);

std::string arena_settings_json(const ArenaRequest& settings);
std::string arena_turns_json(const std::vector<ArenaSavedTurn>& turns);

// BadInput naming `where` ("conversation 3 of workspace W") for JSON that is not
// what arena_settings_json and arena_turns_json write.
ArenaConversation read_arena_conversation(const std::string& settings_json, const std::string& turns_json, const std::string& where);

// The messages the conversation goes on from: the last turn's, with the answer
// it continued with (none: the last turn's user message is the one answered).
std::vector<ChatMessage> agreed_messages(const ArenaConversation& conversation);

// The whole conversation as Markdown: the model, adapter and settings, then per
// turn the user's message and the three answers (the one taken on marked).
std::string arena_conversation_markdown(const ModelSource& source, const ArenaConversation& conversation);

}  // namespace imsm
