// Recipe: pretrain a small Llama-family base model from scratch with its own
// byte-level BPE tokenizer, on a corpus made from WordNet (statements and
// question/answer pairs: see data/knowledge.h). Deterministic for a seed.
// Writes a standard Hugging Face model folder: config.json,
// model.safetensors, tokenizer.json, tokenizer_config.json, plus
// pretrain_recipe.json (the resolved recipe) and pretrain_log.json (losses,
// time, probe scores).
//
// Recipe file (JSON; every key optional except output_dir):
// {"output_dir": "resources/models/wordnet-base", "seed": 1,
//  "corpus": {"wordnet": "/usr/share/wordnet", "concepts": 800, "in_context": false,
//             "numbers": {"max_value": 100, "max_addend": 10, "max_factor": 9, "max_scaled": 50,
//                         "facts_per_document": 8}},   (absent: no number facts)
//  "tokenizer": {"vocab_size": 4096, "split_digits": true},
//  "model": {"hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 4,
//            "num_attention_heads": 8, "num_key_value_heads": 4, "max_position_embeddings": 256},
//  "training": {"epochs": 20, "batch_size": 32, "learning_rate": 3e-3, "warmup_ratio": 0.02,
//               "weight_decay": 0.01, "max_grad_norm": 1.0},
//  "probes": 200}
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "util/run_protocol.h"

namespace imsm {

struct PretrainSummary {
  RunStatus status = RunStatus::Finished;  // finished | diverged (cancel throws)
  std::string output_dir;
  int64_t parameters = 0, documents = 0, tokens_per_epoch = 0, steps = 0;
  double final_loss = 0;     // mean loss of the last epoch
  double probe_contain = 0, probe_em = 0;  // wordnet-qa on `probes` facts of the corpus
  double seconds = 0;
};

// Progress stages "corpus", "tokenizer", "probing"; a StepRecord per
// optimizer step of the training; cancel between steps (nothing is saved).
PretrainSummary run_pretrain(const std::string& recipe_path, const Hooks& hooks = {});

}  // namespace imsm
