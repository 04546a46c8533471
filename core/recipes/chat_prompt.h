// Recipe: a conversation as the prompt a chat model was tuned on — its
// messages through the model's chat template (or a template file), then
// tokenized without added special tokens, as transformers'
// apply_chat_template(tokenize=True) does (chat/chat_template.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

struct ChatPromptRequest {
  std::string model_dir;          // its tokenizer, tokenizer_config.json (bos/eos, the template)
  std::string conversation_path;  // [{"role", "content"}, ...] or {"messages": [...]}
  std::string template_file;      // "": the model's own template
  bool add_generation_prompt = false;
};

struct ChatPrompt {
  std::string text;
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
};

// BadInput naming the file and message for a bad conversation (checked
// first), the model folder when it has no template and none was given (with
// the option to give one), or the template file when it does not render.
ChatPrompt render_chat_prompt(const ChatPromptRequest& request);

}  // namespace imsm
