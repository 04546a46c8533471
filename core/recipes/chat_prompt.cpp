#include "recipes/chat_prompt.h"

#include "chat/chat_template.h"
#include "recipes/chat_format.h"
#include "tokenizer/tokenizer.h"

namespace imsm {

ChatPrompt render_chat_prompt(const ChatPromptRequest& r) {
  const std::vector<ChatMessage> messages = read_conversation(r.conversation_path);
  const ChatFormat format = resolve_chat_format(r.template_file.empty() ? "on" : r.template_file, r.model_dir, "--chat-template");
  const auto tokenizer = load_tokenizer(r.model_dir);
  ChatPrompt out;
  out.text = render_messages(format, messages, r.add_generation_prompt);
  out.ids = tokenizer->encode(out.text, false);  // the template wrote the special tokens
  for (const int32_t id : out.ids) out.tokens.push_back(tokenizer->id_to_token(id));
  return out;
}

}  // namespace imsm
