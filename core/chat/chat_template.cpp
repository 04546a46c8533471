#include "chat/chat_template.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "io/json_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

// 1-based line where message n (0-based) opens: the n-th "{" at the messages' depth
// (1 inside a top-level array, 2 inside {"messages": [...]}), strings skipped.
int64_t line_of_message(const std::string& text, size_t n, int message_depth) {
  size_t seen = 0;
  int64_t line = 1;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (c == '{' && depth == message_depth && seen++ == n) return line;
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return line;
}

}  // namespace

std::string read_chat_template(const std::string& model_dir) {
  const fs::path dir(model_dir);
  if (fs::exists(dir / "chat_template.jinja")) return json::read_text_file((dir / "chat_template.jinja").string());
  const fs::path config = dir / "tokenizer_config.json";
  if (!fs::exists(config)) return "";
  const nlohmann::json t = json::read_file(config.string()).value("chat_template", nlohmann::json());
  if (t.is_string()) return t.get<std::string>();
  for (const auto& named : t.is_array() ? t : nlohmann::json::array())
    if (named.is_object() && named.value("name", "") == "default") return named.value("template", "");
  return "";
}

std::vector<ChatMessage> read_conversation(const std::string& path) {
  const std::string text = json::read_text_file(path);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw_bad_input(path, "malformed JSON: a conversation is [{\"role\": ..., \"content\": ...}, ...]");
  const nlohmann::json messages = j.is_object() ? j.value("messages", nlohmann::json()) : j;
  if (!messages.is_array() || messages.empty())
    throw_bad_input(path, "holds no messages: a conversation is [{\"role\": ..., \"content\": ...}, ...] or {\"messages\": [...]}");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const nlohmann::json& m = messages[i];
    const std::string at = path + ":" + std::to_string(line_of_message(text, i, j.is_array() ? 1 : 2)) + ": message " + std::to_string(i + 1);
    if (!m.is_object()) throw_bad_input(at, "is not an object {\"role\", \"content\"}");
    const std::string role = m.value("role", nlohmann::json()).is_string() ? m["role"].get<std::string>() : "";
    if (role != "system" && role != "user" && role != "assistant")
      throw_bad_input(at, "has role " + (m.contains("role") ? m["role"].dump() : std::string("(none)")) + "; a role is system, user or assistant");
    if (!m.contains("content") || !m["content"].is_string()) throw_bad_input(at, "has no text \"content\"");
    out.push_back({role, m["content"].get<std::string>()});
  }
  return out;
}

}  // namespace imsm
