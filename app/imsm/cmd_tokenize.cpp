// imsm tokenize --tokenizer PATH [--no-special-tokens] (--text T | --input F.jsonl)
// imsm tokenize --tokenizer MODEL_DIR --chat CONVERSATION.json [--add-generation-prompt] [--chat-template FILE]
#include <fstream>
#include <iostream>

#include "commands.h"
#include "io/json_file.h"
#include "recipes/chat_prompt.h"
#include "tokenizer/tokenizer.h"
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
// The conversation through the model's chat template (recipes/chat_prompt.h).
void print_chat(const Options& o) {
  const ChatPrompt p = render_chat_prompt({o.tokenizer, o.chat, o.chat_template, o.add_generation_prompt});
  std::cout << nlohmann::json{{"text", p.text}, {"ids", p.ids}, {"tokens", p.tokens}}.dump(-1, ' ', false,
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
      if (chat->count() > 0) {
        print_chat(*opt);
        return 0;
      }
      const auto tokenizer = load_tokenizer(opt->tokenizer);
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
