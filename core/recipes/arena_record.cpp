#include "recipes/arena_record.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace imsm {
namespace {

using Json = nlohmann::json;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json messages_json(const std::vector<ChatMessage>& messages) {
  Json out = Json::array();
  for (const ChatMessage& m : messages) out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

std::string side_title(ArenaSide side, const std::vector<TokenTrace>& imsm_tokens) {
  if (side == ArenaSide::Base) return "The base model (the original memory)";
  if (side == ArenaSide::Tuned) return "The adapter alone (the fine-tuned memory)";
  double sum = 0;
  for (const TokenTrace& t : imsm_tokens) sum += t.gate_mean;
  char gate[128] = "";
  if (!imsm_tokens.empty())
    std::snprintf(gate, sizeof gate, "; mean gate %.3f, where 1 is the original memory and 0 the fine-tuned",
                  sum / static_cast<double>(imsm_tokens.size()));
  return std::string("IMSM (the two mixed per token") + gate + ")";
}

std::string decoding_text(const ArenaRequest& r) {
  char text[160];
  if (r.temperature > 0)
    std::snprintf(text, sizeof text, "sampled, temperature %.2f, top-p %.2f, seed %llu", r.temperature, r.top_p,
                  static_cast<unsigned long long>(r.seed));
  else
    std::snprintf(text, sizeof text, "greedy");
  return std::string(text) + ", at most " + std::to_string(r.max_new_tokens) + " new tokens";
}

ArenaSavedTurn turn_of(const Json& t) {
  ArenaSavedTurn out;
  for (const Json& m : t.at("messages")) out.messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
  for (const ArenaSide side : arena_sides()) out.answers[static_cast<size_t>(side)] = t.at("answers").at(arena_side_name(side)).get<std::string>();
  for (const Json& k : t.at("imsm_tokens")) {
    TokenTrace token;
    token.id = k.at("id").get<int32_t>();
    token.piece = k.at("piece").get<std::string>();
    token.gate_mean = k.at("gate").get<float>();
    out.imsm_tokens.push_back(std::move(token));
  }
  out.continued_with = t.value("continued_with", "");
  return out;
}

}  // namespace

ArenaSavedTurn saved_turn(const ArenaRequest& request, const ArenaTurn& turn) {
  ArenaSavedTurn out;
  out.messages = request.messages;
  for (const ArenaAnswer& a : turn.answers) {
    out.answers[static_cast<size_t>(a.side)] = a.result.text;
    if (a.side == ArenaSide::Imsm)
      for (const TokenTrace& t : a.result.trace) {
        TokenTrace kept;  // what the view colours: the token and its mean gate
        kept.id = t.id;
        kept.piece = t.piece;
        kept.gate_mean = t.gate_mean;
        out.imsm_tokens.push_back(std::move(kept));
      }
  }
  return out;
}

std::string arena_settings_json(const ArenaRequest& r) {
  return dump({{"chat_template", r.chat_template}, {"max_new_tokens", r.max_new_tokens}, {"temperature", r.temperature},
               {"top_p", r.top_p}, {"seed", r.seed}, {"top_k", r.top_k}});
}

std::string arena_turns_json(const std::vector<ArenaSavedTurn>& turns) {
  Json out = Json::array();
  for (const ArenaSavedTurn& t : turns) {
    Json answers = Json::object(), tokens = Json::array();
    for (const ArenaSide side : arena_sides()) answers[arena_side_name(side)] = t.answers[static_cast<size_t>(side)];
    for (const TokenTrace& k : t.imsm_tokens) tokens.push_back({{"id", k.id}, {"piece", k.piece}, {"gate", k.gate_mean}});
    out.push_back({{"messages", messages_json(t.messages)}, {"answers", answers}, {"imsm_tokens", tokens}, {"continued_with", t.continued_with}});
  }
  return dump(out);
}

ArenaConversation read_arena_conversation(const std::string& settings_json, const std::string& turns_json, const std::string& where) {
  ArenaConversation c;
  try {
    const Json s = Json::parse(settings_json);
    c.settings.chat_template = s.at("chat_template").get<std::string>();
    c.settings.max_new_tokens = s.at("max_new_tokens").get<int64_t>();
    c.settings.temperature = s.at("temperature").get<double>();
    c.settings.top_p = s.at("top_p").get<double>();
    c.settings.seed = s.at("seed").get<uint64_t>();
    c.settings.top_k = s.at("top_k").get<int64_t>();
    for (const Json& t : Json::parse(turns_json)) c.turns.push_back(turn_of(t));
  } catch (const Json::exception& e) {
    throw_bad_input(where, std::string("is not a chat-arena conversation this version reads: ") + e.what());
  }
  return c;
}

std::vector<ChatMessage> agreed_messages(const ArenaConversation& c) {
  if (c.turns.empty()) return {};
  const ArenaSavedTurn& last = c.turns.back();
  std::vector<ChatMessage> out = last.messages;
  for (const ArenaSide side : arena_sides())
    if (arena_side_name(side) == last.continued_with) out.push_back({"assistant", last.answers[static_cast<size_t>(side)]});
  if (last.continued_with.empty() && !out.empty()) out.pop_back();  // the last user message was answered, not agreed on
  return out;
}

std::string arena_conversation_markdown(const ModelSource& source, const ArenaConversation& c) {
  std::string md = "# Chat arena\n\n- Model: `" + source.model_dir + "`\n- Adapter: `" + source.adapter_dir + "`\n";
  md += "- Decoding: " + decoding_text(c.settings) + "\n- Chat template: " + c.settings.chat_template + "\n";
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const ArenaSavedTurn& t = c.turns[i];
    md += "\n## Turn " + std::to_string(i + 1) + "\n\n";
    const size_t first = i == 0 || t.messages.empty() ? 0 : t.messages.size() - 1;  // the first turn's context, then each user message
    for (size_t m = first; m < t.messages.size(); ++m)
      md += "**" + t.messages[m].role + "**: " + t.messages[m].content + "\n\n";
    for (const ArenaSide side : arena_sides()) {
      const bool taken = t.continued_with == arena_side_name(side);
      md += "### " + side_title(side, t.imsm_tokens) + (taken ? " (the conversation went on with this one)" : "") + "\n\n" +
            t.answers[static_cast<size_t>(side)] + "\n\n";
    }
  }
  return md;
}

}  // namespace imsm
