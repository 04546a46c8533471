// imsm tokenize --tokenizer PATH [--no-special-tokens] (--text T | --input F.jsonl)
// imsm tokenize --tokenizer MODEL_DIR --chat CONVERSATION.json [--add-generation-prompt] [--chat-template FILE]
// imsm tokenize --tokenizer MODEL_DIR --examples DATA.jsonl [--chat-template auto|on|off|FILE] [--max-input-length N] [--max-output-length N] [--limit N]
#include <fstream>
#include <iostream>

#include "commands.h"
#include "io/json_file.h"
#include "recipes/chat_prompt.h"
#include "recipes/train.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace imsm::cli {

namespace {
struct Options {
  std::string tokenizer, text, input, chat, chat_template, examples;
  bool no_special = false, add_generation_prompt = false;
  int64_t max_input_length = TrainConfig{}.max_input_length, max_output_length = TrainConfig{}.max_output_length, limit = 0;
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

// Training examples as a run encodes them: ids, labels (-100: no loss) and the prompt's length.
void print_examples(const Options& o) {
  TrainConfig c;
  c.model_path = o.tokenizer;
  c.data_path = o.examples;
  c.chat_template = o.chat_template.empty() ? "auto" : o.chat_template;
  c.max_input_length = o.max_input_length;
  c.max_output_length = o.max_output_length;
  const auto tokenizer = load_tokenizer(o.tokenizer);  // config.json's EOS ids too, when the folder is a model's
  for (const EncodedExample& e : encode_training_file(c.data_path, c, *tokenizer, example_encoding(c, *tokenizer), o.limit)) {
    nlohmann::json tokens = nlohmann::json::array();
    for (const int32_t id : e.ids) tokens.push_back(tokenizer->id_to_token(id));
    std::cout << nlohmann::json{{"ids", e.ids}, {"labels", e.labels}, {"query_len", e.query_len}, {"tokens", tokens}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  }
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
  auto* examples = cmd->add_option("--examples", opt->examples,
                                   "Training data (JSON lines or Alpaca JSON) encoded as imsm train encodes it: prints {\"ids\", \"labels\" "
                                   "(-100: no loss), \"query_len\", \"tokens\"} per example");
  text->excludes(input);
  chat->excludes(text)->excludes(input);
  examples->excludes(text)->excludes(input)->excludes(chat);
  cmd->add_option("--max-input-length", opt->max_input_length, "--examples: the prompt's tokens at most")->capture_default_str();
  cmd->add_option("--max-output-length", opt->max_output_length, "--examples: the answer's tokens at most, its end included")->capture_default_str();
  cmd->add_option("--limit", opt->limit, "--examples: the first N examples (0: all)")->capture_default_str();
  cmd->add_flag("--add-generation-prompt", opt->add_generation_prompt, "--chat: end with the assistant's turn opening");
  cmd->add_option("--chat-template", opt->chat_template,
                  "--chat: a Jinja template file instead of the model's own; --examples: auto (default), on, off or a template file");
  cmd->add_flag("--no-special-tokens", opt->no_special, "Do not add BOS/EOS (special-token text is still matched)");
  cmd->callback([&run, opt, text, input, chat, examples] {
    run = [opt, text, input, chat, examples] {
      if (text->count() == 0 && input->count() == 0 && chat->count() == 0 && examples->count() == 0)
        throw_bad_input("tokenize", "give --text, --input, --chat or --examples");
      if (chat->count() > 0) {
        print_chat(*opt);
        return 0;
      }
      if (examples->count() > 0) {
        print_examples(*opt);
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
