// Fixtures shared by the training tests: a character-level tokenizer and a
// small model folder with a copy task in the official data format.
#pragma once
#include <gtest/gtest.h>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "recipes/create_model.h"
#include "test_util.h"

namespace imsm::testing {

// A character-level BPE (no merges): ids by hand. <s> = 0, </s> = 1, ' ' = 2, a..z = 3..28.
inline std::string char_tokenizer_json() {
  nlohmann::json vocab = {{"<s>", 0}, {"</s>", 1}, {" ", 2}};
  for (char ch = 'a'; ch <= 'z'; ++ch) vocab[std::string(1, ch)] = 3 + (ch - 'a');
  return nlohmann::json{
      {"added_tokens", {{{"id", 0}, {"content", "<s>"}, {"special", true}}, {{"id", 1}, {"content", "</s>"}, {"special", true}}}},
      {"normalizer", nullptr}, {"pre_tokenizer", nullptr}, {"decoder", {{"type", "Fuse"}}},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {0}}, {"tokens", {"<s>"}}}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}}}}
      .dump();
}

// A small model folder with the character tokenizer, and a copy task in the official format.
struct TrainWorkspace {
  TempDir dir;
  std::string model, data;
  TrainWorkspace() {
    write_file(dir.file("tokenizer.json"), char_tokenizer_json());
    write_file(dir.file("tokenizer_config.json"), R"({"bos_token": "<s>", "eos_token": "</s>"})");
    model = dir.file("model");
    imsm::CreateModelRequest r;
    r.out_dir = model;
    r.tokenizer = dir.file("tokenizer.json");
    r.hidden_size = 32;
    r.intermediate_size = 64;
    r.num_layers = 2;
    r.num_heads = 4;
    r.num_kv_heads = 2;
    r.seed = 3;
    imsm::create_model(r);
    std::mt19937 rng(2);
    std::string lines;
    for (int i = 0; i < 40; ++i) {
      std::string w;
      for (int k = 0; k < 3; ++k) w += static_cast<char>('a' + rng() % 26);
      lines += "{\"input\": \"copy " + w + "\", \"output\": \"" + w + "\"}\n";
    }
    data = dir.file("train.jsonl");
    write_file(data, lines);
  }
  nlohmann::json config(const std::string& out) const {
    return {{"model_path", model}, {"data_path", data}, {"peft", "lora"}, {"lora_r", 4}, {"lora_alpha", 8},
            {"lora_dropout", 0.1}, {"gate_rank", 4}, {"dropout_prob", 0.1}, {"num_epochs", 3}, {"batch_size", 8},
            {"learning_rate", 1e-2}, {"num_warmup_ratio", 0.1}, {"mode", 5}, {"output_dir", out}, {"save_steps", 4},
            {"seed", 11}};
  }
};

}  // namespace imsm::testing
