#include "recipes/chat_prompt.h"

#include <fstream>
#include <iterator>

#include "chat/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"

namespace imsm {

ChatPrompt render_chat_prompt(const ChatPromptRequest& r) {
  const std::vector<ChatMessage> messages = read_conversation(r.conversation_path);
  std::string where = r.template_file, chat_template;
  if (!r.template_file.empty()) {
    std::ifstream in(r.template_file, std::ios::binary);
    if (!in) throw_bad_input(r.template_file, "cannot open file");
    chat_template.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    where = r.model_dir + "/tokenizer_config.json";
    chat_template = read_chat_template(r.model_dir);
    if (chat_template.empty())
      throw_bad_input(r.model_dir, "has no chat template (tokenizer_config.json's chat_template, or chat_template.jinja): "
                                   "give one with --chat-template FILE");
  }
  const auto tokenizer = load_tokenizer(r.model_dir);
  const TokenizerConfig config = read_tokenizer_config(r.model_dir + "/tokenizer_config.json");
  ChatPrompt out;
  out.text = render_chat(chat_template, messages, r.add_generation_prompt, config.bos_token, config.eos_token, where);
  out.ids = tokenizer->encode(out.text, false);  // the template wrote the special tokens
  for (const int32_t id : out.ids) out.tokens.push_back(tokenizer->id_to_token(id));
  return out;
}

}  // namespace imsm
