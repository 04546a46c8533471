#include "recipes/chat_format.h"

#include <algorithm>
#include <filesystem>

#include "chat/chat_template.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

bool starts_with(const std::vector<int32_t>& ids, const std::vector<int32_t>& prefix) {
  return ids.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), ids.begin());
}

// The assistant's tokens after the rendered prompt: through the first special
// or stop token, the template's end of turn (<|im_end|>, <|eot_id|>), what
// the template writes after it dropped (a newline, the next turn's header);
// with none there, `eos` appended.
std::vector<int32_t> answer_tokens(const ChatFormat& f, const Tokenizer& tokenizer, const Example& e, const std::string& prompt_text,
                                   const std::vector<int32_t>& prompt_ids, int32_t eos, const std::vector<int32_t>& stops) {
  const std::string full_text = render_messages(f, {{"user", e.prompt}, {"assistant", e.answer}}, false);
  if (full_text.compare(0, prompt_text.size(), prompt_text) != 0)
    throw_bad_input(f.where, "renders a user turn with the generation prompt differently from the same turn followed by an answer: "
                             "the answer's tokens cannot be told from the prompt's; set \"chat_template\": false or give a template file");
  const std::vector<int32_t> full = tokenizer.encode(full_text, false);  // [prompt, answer] as apply_chat_template tokenizes it
  std::vector<int32_t> answer = starts_with(full, prompt_ids)
                                    ? std::vector<int32_t>(full.begin() + static_cast<std::ptrdiff_t>(prompt_ids.size()), full.end())
                                    : tokenizer.encode(full_text.substr(prompt_text.size()), false);
  const auto end_of_turn = std::find_if(answer.begin(), answer.end(), [&](int32_t id) {
    return tokenizer.is_special(id) || std::find(stops.begin(), stops.end(), id) != stops.end();
  });
  if (end_of_turn != answer.end())
    answer.erase(end_of_turn + 1, answer.end());
  else if (eos >= 0)
    answer.push_back(eos);
  return answer;
}

}  // namespace

ChatFormat resolve_chat_format(const std::string& key, const std::string& model_dir, const std::string& key_name) {
  ChatFormat f;
  f.key = key;
  if (key == "off") return f;
  const TokenizerConfig tokens = read_tokenizer_config((fs::path(model_dir) / "tokenizer_config.json").string());
  f.bos_token = tokens.bos_token;
  f.eos_token = tokens.eos_token;
  if (key == "auto" || key == "on") {
    f.where = (fs::path(model_dir) / "tokenizer_config.json").string();
    f.chat_template = read_chat_template(model_dir);
    if (f.chat_template.empty() && key == "on")
      throw_bad_input(model_dir, "has no chat template (tokenizer_config.json's chat_template, or chat_template.jinja): give one with " +
                                     (key_name.rfind("--", 0) == 0 ? key_name + " FILE" : "\"" + key_name + "\": \"FILE\""));
    return f;
  }
  f.where = key;
  f.chat_template = json::read_text_file(key, "the chat template file " + key_name + " names");
  if (f.chat_template.empty()) throw_bad_input(key, "is an empty chat template");
  return f;
}

std::string render_messages(const ChatFormat& f, const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  return render_chat(f.chat_template, messages, add_generation_prompt, f.bos_token, f.eos_token, f.where);
}

std::string resolved_chat_key(const ChatFormat& f) {
  if (!f.on()) return "off";
  return f.key == "auto" || f.key == "on" ? "on" : f.key;
}

std::string describe_chat_format(const ChatFormat& f, const std::string& key_name) {
  if (!f.on()) return f.key == "off" ? "chat template: off: bare prompts, as the official code" : "chat template: none in the model: bare prompts";
  const std::string from = f.key == "auto" || f.key == "on" ? "the model's own (" + f.where + ")" : f.where;
  const std::string way_back = key_name.rfind("--", 0) == 0 ? key_name + " off" : "\"" + key_name + "\": false";
  return "chat template: " + from + ": each prompt a user turn, the answer the assistant's" +
         (f.key == "auto" ? " (" + way_back + " for bare prompts)" : "");
}

std::vector<int32_t> encode_prompt(const ChatFormat& f, const Tokenizer& tokenizer, const std::string& prompt, int64_t max_input_length) {
  const auto max = static_cast<size_t>(std::max<int64_t>(0, max_input_length));
  if (!f.on()) {
    std::vector<int32_t> ids = tokenizer.encode(prompt, true);
    if (ids.size() > max) ids.resize(max);
    return ids;
  }
  const std::string text = render_messages(f, {{"user", prompt}}, true);
  std::vector<int32_t> ids = tokenizer.encode(text, false);  // the template wrote the special tokens
  if (ids.size() <= max) return ids;
  // Too long: the user's text loses its end; what the template writes after it (end of turn, the assistant's header)
  // stays. The text is looked for as templates write it, some trimmed (Llama 3's `| trim`).
  const size_t first = prompt.find_first_not_of(" \t\r\n"), last = prompt.find_last_not_of(" \t\r\n");
  const std::string content = first == std::string::npos ? "" : prompt.substr(first, last - first + 1);
  const size_t at = content.empty() ? std::string::npos : text.rfind(content);
  const size_t closing = at == std::string::npos ? 0 : std::min(max, tokenizer.encode(text.substr(at + content.size()), false).size());
  ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(max - closing), ids.end() - static_cast<std::ptrdiff_t>(closing));
  return ids;
}

EncodedExample encode_for_training(const ChatFormat& f, const Tokenizer& tokenizer, const Example& e, int64_t max_input_length,
                                   int64_t max_output_length, int32_t eos, const std::vector<int32_t>& stops) {
  if (!f.on()) return encode_example(tokenizer, e, max_input_length, max_output_length, eos);
  const std::string prompt_text = render_messages(f, {{"user", e.prompt}}, true);
  std::vector<int32_t> prompt = tokenizer.encode(prompt_text, false);
  std::vector<int32_t> answer = answer_tokens(f, tokenizer, e, prompt_text, prompt, eos, stops);
  if (static_cast<int64_t>(prompt.size()) > max_input_length) prompt = encode_prompt(f, tokenizer, e.prompt, max_input_length);
  const auto max_out = static_cast<size_t>(std::max<int64_t>(1, max_output_length));
  if (answer.size() > max_out) answer.erase(answer.begin() + static_cast<std::ptrdiff_t>(max_out - 1), answer.end() - 1);  // keep the end
  EncodedExample out;
  out.ids = prompt;
  out.ids.insert(out.ids.end(), answer.begin(), answer.end());
  out.labels.assign(prompt.size(), -100);
  out.labels.insert(out.labels.end(), answer.begin(), answer.end());
  out.query_len = static_cast<int64_t>(prompt.size());
  return out;
}

}  // namespace imsm
