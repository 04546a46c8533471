// A model's chat template, applied the way transformers' apply_chat_template
// applies it: the template's Jinja run by llama.cpp's own C++ engine
// (common/jinja, compiled from the set-up's llama.cpp source) with messages,
// add_generation_prompt and the tokenizer's bos_token and eos_token. The
// rendered text is then tokenized without adding special tokens (the
// template writes them). Torch-free.
#pragma once
#include <string>
#include <vector>

namespace imsm {

struct ChatMessage {
  std::string role;     // "system" | "user" | "assistant"
  std::string content;
};

// The chat template of a Hugging Face folder: chat_template.jinja, else
// tokenizer_config.json's "chat_template" (a string, or the "default" of a
// list of named templates); "" when the model has none.
std::string read_chat_template(const std::string& model_dir);

// `messages` through `chat_template`. BadInput naming `where` (the template's
// file) when the template does not parse or fails to render, with the
// engine's reason.
std::string render_chat(const std::string& chat_template, const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        const std::string& bos_token, const std::string& eos_token, const std::string& where);

// A conversation file: a JSON array of {"role", "content"} objects, or an
// object with such an array under "messages". BadInput naming the file and
// the message (by its number and line) for a role that is not system, user
// or assistant, a missing or non-text content, or malformed JSON.
std::vector<ChatMessage> read_conversation(const std::string& path);

}  // namespace imsm
