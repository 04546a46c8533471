// Recipe component: examples in the chat format a model was tuned on. With a
// chat template, a prompt becomes a user turn followed by the assistant's
// header (add_generation_prompt), and a training example the same turn with
// the answer as the assistant's message; the loss falls on the answer's
// tokens through the template's end of turn (an answer's own text of a
// special token would end it there), never on the prompt or the next turn. Rendered by llama.cpp's Jinja engine and tokenized
// without added special tokens, as transformers' apply_chat_template
// (chat/chat_template.h). Without one, the official encoding
// (train/dataset.h): the prompt with the tokenizer's special tokens, the
// answer, then EOS.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "train/dataset.h"

namespace imsm {

class Tokenizer;

struct ChatFormat {
  std::string key = "auto";   // as asked: "auto" (on when the model has a template) | "on" | "off" | a template file
  std::string chat_template;  // resolved: the template's text; "" = bare prompts
  std::string where;          // the template's file, for messages
  std::string bos_token, eos_token;
  bool on() const { return !chat_template.empty(); }
};

// `key` for the model folder model_dir (its tokenizer_config.json). BadInput
// naming key_name ("chat_template", "--chat-template") for "on" when the
// model has no template, or a template file that cannot be read.
ChatFormat resolve_chat_format(const std::string& key, const std::string& model_dir, const std::string& key_name);

// `messages` through the format's template (it must be on), as text.
std::string render_messages(const ChatFormat& format, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

// What the configuration records once resolved: "off", "on" (the model's
// own) or the template file's path.
std::string resolved_chat_key(const ChatFormat& format);

// One line for a run's log: which template, from where, and the way back.
std::string describe_chat_format(const ChatFormat& format, const std::string& key_name);

// The prompt's ids: rendered as a user turn with the generation prompt when
// the format is on, else with the tokenizer's special tokens. A prompt over
// max_input_length tokens loses tokens from its end (official truncation);
// rendered, the user's text loses them, never the turn's closing markers.
std::vector<int32_t> encode_prompt(const ChatFormat& format, const Tokenizer& tokenizer, const std::string& prompt, int64_t max_input_length);

// A training example: the prompt as encode_prompt gives it, then the answer's
// tokens (max_output_length at most, the end of turn included) labelled; in
// the chat format the answer is the assistant's message as the template
// renders it, through its first special or stop token (`stops`): the
// template's end of turn (none there: `eos` appended); else encode_example. BadInput naming the template when it does
// not render the user's turn alone as the start of the turn with an answer.
EncodedExample encode_for_training(const ChatFormat& format, const Tokenizer& tokenizer, const Example& example, int64_t max_input_length,
                                   int64_t max_output_length, int32_t eos, const std::vector<int32_t>& stops);

}  // namespace imsm
