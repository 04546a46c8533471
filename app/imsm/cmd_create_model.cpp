// imsm create-model --out DIR [--tokenizer PATH] [shape options]
#include <iostream>

#include "commands.h"
#include "recipes/create_model.h"
#include "util/log.h"

namespace imsm::cli {

void add_create_model(CLI::App& app, Run& run) {
  auto req = std::make_shared<CreateModelRequest>();
  CLI::App* cmd = app.add_subcommand("create-model", "Write a Llama-family model folder with freshly initialised weights");
  cmd->add_option("--out", req->out_dir, "Folder to write (config.json, model.safetensors, tokenizer files)")->required();
  cmd->add_option("--tokenizer", req->tokenizer, "Tokenizer to copy in (tokenizer.json, tokenizer.model or folder)");
  cmd->add_option("--architecture", req->architecture, "LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM")->capture_default_str();
  cmd->add_option("--hidden-size", req->hidden_size)->capture_default_str();
  cmd->add_option("--intermediate-size", req->intermediate_size)->capture_default_str();
  cmd->add_option("--layers", req->num_layers)->capture_default_str();
  cmd->add_option("--heads", req->num_heads)->capture_default_str();
  cmd->add_option("--kv-heads", req->num_kv_heads)->capture_default_str();
  cmd->add_option("--vocab-size", req->vocab_size, "0: the tokenizer's size")->capture_default_str();
  cmd->add_option("--max-positions", req->max_positions)->capture_default_str();
  cmd->add_flag("--tie-embeddings", req->tie_word_embeddings, "Share the embedding with the LM head");
  cmd->add_option("--seed", req->seed)->capture_default_str();
  cmd->add_option("--dtype", req->dtype, "float32, bfloat16 or float16 (saved weights)")->capture_default_str();
  cmd->callback([&run, req] {
    run = [req] {
      const int64_t params = create_model(*req);
      log::info("wrote " + req->out_dir + " (" + std::to_string(params) + " parameters, random weights)");
      return 0;
    };
  });
}

}  // namespace imsm::cli
