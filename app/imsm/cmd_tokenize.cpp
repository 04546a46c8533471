// imsm tokenize --tokenizer PATH [--no-special-tokens] (--text T | --input F.jsonl)
// imsm tokenize --tokenizer MODEL_DIR --chat CONVERSATION.json [--add-generation-prompt] [--chat-template FILE]
#include <fstream>
#include <iostream>

#include "chat/chat_template.h"
#include "commands.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"

namespace imsm::cli {

namespace {
struct Options {
  std::string tokenizer, text, input, chat, chat_template;
  bool no_special = false, add_generation_prompt = false;
};

void print(const Tokenizer& t, const std::string& text, bool special) {
  const auto ids = t.encode(text, special);
  nlohmann::json tokens = nlohmann::json::array();
  for (const int32_t id : ids) tokens.push_back(t.id_to_token(id));
  // Token strings may hold partial UTF-8 (byte tokens): replace, never fail.
  std::cout << nlohmann::json{{"ids", ids}, {"tokens", tokens}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
}
// The conversation through the model's chat template (or --chat-template's), then its tokens without
// added special tokens (the template writes them), as transformers' apply_chat_template(tokenize=True).
void print_chat(const Options& o, const Tokenizer& t) {
  const std::vector<ChatMessage> messages = read_conversation(o.chat);
  std::string where = o.chat_template, tmpl;
  if (!o.chat_template.empty()) {
    std::ifstream in(o.chat_template, std::ios::binary);
    if (!in) throw_bad_input(o.chat_template, "cannot open file");
    tmpl.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    where = o.tokenizer + "/tokenizer_config.json";
    tmpl = read_chat_template(o.tokenizer);
    if (tmpl.empty())
      throw_bad_input(o.tokenizer, "has no chat template (tokenizer_config.json's chat_template, or chat_template.jinja): "
                                   "give one with --chat-template FILE");
  }
  const TokenizerConfig config = read_tokenizer_config(o.tokenizer + "/tokenizer_config.json");
  const std::string text = render_chat(tmpl, messages, o.add_generation_prompt, config.bos_token, config.eos_token, where);
  const auto ids = t.encode(text, false);
  nlohmann::json tokens = nlohmann::json::array();
  for (const int32_t id : ids) tokens.push_back(t.id_to_token(id));
  std::cout << nlohmann::json{{"text", text}, {"ids", ids}, {"tokens", tokens}}.dump(-1, ' ', false,
                                                                                      nlohmann::json::error_handler_t::replace)
            << "\n";
}

}  // namespace

void add_tokenize(CLI::App& app, Run& run) {
  auto opt = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Text to token ids, one JSON object per text: {\"ids\", \"tokens\"}");
  cmd->add_option("--tokenizer", opt->tokenizer, "tokenizer.json, tokenizer.model or a model folder")->required();
  auto* text = cmd->add_option("--text", opt->text, "The text to tokenize");
  auto* input = cmd->add_option("--input", opt->input, "JSON lines file, one {\"text\": ...} per line");
  auto* chat = cmd->add_option("--chat", opt->chat,
                                "A conversation ([{\"role\", \"content\"}, ...]) through the model's chat template, as transformers' "
                                "apply_chat_template: prints {\"text\", \"ids\", \"tokens\"}");
  text->excludes(input);
  chat->excludes(text)->excludes(input);
  cmd->add_flag("--add-generation-prompt", opt->add_generation_prompt, "--chat: end with the assistant's turn opening");
  cmd->add_option("--chat-template", opt->chat_template, "--chat: a Jinja template file instead of the model's own");
  cmd->add_flag("--no-special-tokens", opt->no_special, "Do not add BOS/EOS (special-token text is still matched)");
  cmd->callback([&run, opt, text, input, chat] {
    run = [opt, text, input, chat] {
      if (text->count() == 0 && input->count() == 0 && chat->count() == 0) throw_bad_input("tokenize", "give --text, --input or --chat");
      const auto tokenizer = load_tokenizer(opt->tokenizer);
      if (chat->count() > 0) {
        print_chat(*opt, *tokenizer);
        return 0;
      }
      if (text->count() > 0) {
        print(*tokenizer, opt->text, !opt->no_special);
        return 0;
      }
      std::ifstream in(opt->input);
      if (!in) throw_bad_input(opt->input, "cannot open file");
      std::string line;
      for (int64_t n = 1; std::getline(in, line); ++n) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        const auto j = json::parse(line, opt->input, static_cast<size_t>(n));
        print(*tokenizer, json::get_string(j, "text", opt->input + ":" + std::to_string(n)), !opt->no_special);
      }
      return 0;
    };
  });
}

}  // namespace imsm::cli
