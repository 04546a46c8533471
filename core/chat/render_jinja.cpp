// render_chat (chat_template.h) through llama.cpp's Jinja engine.
#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"
#include "jinja/runtime.h"
#include "json.h"  // llama.cpp's common_json, what its Jinja engine reads its input from
#include "util/error.h"

namespace imsm {

std::string render_chat(const std::string& chat_template, const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                        const std::string& bos_token, const std::string& eos_token, const std::string& where) {
  nlohmann::json input = {{"messages", nlohmann::json::array()}, {"bos_token", bos_token}, {"eos_token", eos_token}};
  for (const auto& m : messages) input["messages"].push_back({{"role", m.role}, {"content", m.content}});
  if (add_generation_prompt) input["add_generation_prompt"] = true;
  try {
    jinja::lexer lexer;
    const auto tokens = lexer.tokenize(chat_template);
    const auto program = jinja::parse_from_tokens(tokens);
    jinja::context ctx(tokens.source);
    jinja::global_from_json(ctx, common_json::parse(input.dump()), false);
    jinja::runtime runtime(ctx);
    const jinja::value result = runtime.execute(program);
    return jinja::runtime::gather_string_parts(result)->as_string().str();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw_bad_input(where, std::string("the chat template cannot be applied (llama.cpp's Jinja engine: ") + e.what() + ")");
  }
}

}  // namespace imsm
