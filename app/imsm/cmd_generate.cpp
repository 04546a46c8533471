// imsm generate --model DIR [--prompt TEXT | --prompt-ids 1,2,3] [...] [--json]
#include <iostream>
#include <sstream>

#include "commands.h"
#include "recipes/chat_prompt.h"
#include "setting_flags.h"
#include "trace_json.h"
#include "io/json_file.h"
#include "recipes/environment.h"
#include "recipes/generate.h"
#include "util/error.h"
#include "util/log.h"

namespace imsm::cli {

namespace {
std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
    if (b == std::string::npos) throw_bad_input("--prompt-ids", "empty item in \"" + text + "\"");
    item = item.substr(b, e - b + 1);
    if (item.find_first_not_of("-0123456789") != std::string::npos || item.size() > 10)
      throw_bad_input("--prompt-ids", "\"" + item + "\" is not a token id");
    ids.push_back(static_cast<int32_t>(std::stoll(item)));
  }
  return ids;
}

// --json: one object with the ids, the text, the speed and, for IMSM adapters, the gate and the trace.
void print_json(const GenerateResult& r) {
  nlohmann::json out = {{"ids", r.ids}, {"text", r.text}, {"tokens_per_second", r.tokens_per_second}};
  if (!r.variant.empty()) out["gate_mean"] = r.gate_mean;
  if (!r.trace.empty()) out["trace"] = trace_json(r.trace);
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// After the streamed text: the prompt's and the answer's sizes and speed, on stderr.
void print_stats(const GenerateResult& r) {
  std::cout << std::endl;  // flushed before the stats on stderr
  std::ostringstream stats;
  stats.precision(3);
  stats << r.prompt_tokens << " prompt tokens in " << r.prefill_seconds << " s; " << r.ids.size() << " new tokens";
  if (r.tokens_per_second > 0) stats << " at " << r.tokens_per_second << " tokens/s";
  log::info(stats.str());
}
void use_prompt_ids(GenerateRequest& req, std::vector<int32_t> ids) {
  req.use_prompt_ids = true;
  req.prompt_ids = std::move(ids);
}

// The conversation through the model's template, ending with the assistant's turn opening.
std::vector<int32_t> chat_prompt_ids(const GenerateRequest& req, ChatPromptRequest chat) {
  chat.model_dir = req.source.model_dir;
  chat.add_generation_prompt = true;
  return render_chat_prompt(chat).ids;
}
}  // namespace

void add_generate(CLI::App& app, Run& run) {
  auto req = std::make_shared<GenerateRequest>();
  auto ids_text = std::make_shared<std::string>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("generate", "Continue a prompt with a model (greedy unless --temperature > 0)");
  cmd->add_option("--model", req->source.model_dir, "Hugging Face model folder (config.json, model.safetensors, tokenizer)")->required();
  cmd->add_option("--adapter", req->source.adapter_dir, "A PEFT adapter folder, or an IMSM adapter (with imsm_config.json: both streams, gated)");
  auto* prompt = cmd->add_option("--prompt", req->prompt, "Prompt text (encoded with BOS as the tokenizer says)");
  auto* ids = cmd->add_option("--prompt-ids", *ids_text, "Prompt as token ids: 1,2,3");
  auto chat = std::make_shared<ChatPromptRequest>();
  auto* chat_opt = cmd->add_option("--chat", chat->conversation_path,
                                   "A conversation ([{\"role\", \"content\"}, ...]) through the model's chat template, "
                                   "answered as the assistant's next turn");
  cmd->add_option("--chat-template", chat->template_file, "--chat: a Jinja template file instead of the model's own")->needs(chat_opt);
  prompt->excludes(ids);
  chat_opt->excludes(prompt)->excludes(ids);
  cmd->add_option("--max-new-tokens", req->max_new_tokens, "Stop after this many new tokens")->capture_default_str();
  cmd->add_option("--temperature", req->temperature, "0 = greedy; > 0 samples")->capture_default_str();
  cmd->add_option("--top-k", req->top_k, "Sample among the k most likely tokens (0 = all)")->capture_default_str();
  cmd->add_option("--top-p", req->top_p, "Sample within the smallest set of probability mass p")->capture_default_str();
  cmd->add_option("--seed", req->seed, "Seed of the sampler")->capture_default_str();
  cmd->add_option("--quant", req->quant,
                  "q8_0: decode on 8-bit weights as llama.cpp's q8_0 (blocks of 32, int8 products): a plain model or a merged "
                  "LoRA adapter, not an IMSM one");
  cmd->add_flag("--ignore-eos", req->ignore_eos, "Generate --max-new-tokens tokens past any end-of-sequence token (for speed measurements)");
  add_device_flag(cmd, req->source.device);
  add_dtype_flag(cmd, req->source.dtype, "auto, f32, bf16 or f16 (auto: the checkpoint's on CUDA; on CPU bf16 for 100M+ parameters where the CPU has bf16 instructions, else f32)");
  auto* clamp = cmd->add_option("--clamp-gate", req->clamp_value,
                                 "Steer an IMSM adapter: its gate clamped to this value in [0, 1] (0: the fine-tuned memory, 1: the original)");
  cmd->add_option("--clamp-tokens", req->clamp_tokens, "Clamp only these answer tokens (0-based, e.g. 0,3,4; default: all)")
      ->delimiter(',')
      ->needs(clamp);
  cmd->add_option("--trace-top-k", req->trace_top_k,
                  "IMSM adapters: per token the k likeliest next tokens of each stream, this token's probability under each, "
                  "their entropies and KL(original || tuned), in --json's \"trace\"")
      ->capture_default_str();
  cmd->add_flag("--json", *json_out, "Print one JSON object {ids, text, tokens_per_second[, gate_mean, trace]} and nothing else on stdout");
  cmd->callback([&run, req, ids_text, json_out, prompt, ids, clamp, chat, chat_opt] {
    req->clamp = clamp->count() > 0;
    run = [req, ids_text, json_out, prompt, ids, chat, chat_opt] {
      if (prompt->count() == 0 && ids->count() == 0 && chat_opt->count() == 0)
        throw_bad_input("generate", "give --prompt, --prompt-ids or --chat");
      if (ids->count() > 0) use_prompt_ids(*req, parse_ids(*ids_text));
      if (chat_opt->count() > 0) use_prompt_ids(*req, chat_prompt_ids(*req, *chat));
      const std::string warning = blas_warning_line();
      if (!warning.empty()) log::warn(warning);
      std::function<void(const std::string&)> stream;
      if (!*json_out) stream = [](const std::string& piece) { std::cout << piece << std::flush; };
      const GenerateResult r = run_generate(*req, stream);
      if (*json_out) print_json(r);
      else print_stats(r);
      return 0;
    };
  });
}

}  // namespace imsm::cli
