#include "recipes/create_model.h"

#include <filesystem>

#include "model/loader.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

int64_t create_model(const CreateModelRequest& r) {
  if (r.out_dir.empty()) throw_bad_input("--out", "give a folder to write the model to");
  int64_t vocab = r.vocab_size;
  int32_t bos = -1;
  std::vector<int32_t> eos;
  fs::path tokenizer_dir;
  if (!r.tokenizer.empty()) {
    const auto tok = load_tokenizer(r.tokenizer);
    if (vocab == 0) vocab = tok->vocab_size();
    if (vocab < tok->vocab_size()) throw_bad_input("--vocab-size", "smaller than the tokenizer's " + std::to_string(tok->vocab_size()) + " tokens");
    bos = tok->bos_id();
    eos = tok->eos_ids();
    tokenizer_dir = fs::is_directory(r.tokenizer) ? fs::path(r.tokenizer) : fs::path(r.tokenizer).parent_path();
  }
  if (vocab <= 0) throw_bad_input("--vocab-size", "give a vocabulary size or a tokenizer");
  nlohmann::json j = {{"architectures", {r.architecture}}, {"hidden_size", r.hidden_size},
                      {"intermediate_size", r.intermediate_size}, {"num_attention_heads", r.num_heads},
                      {"num_key_value_heads", r.num_kv_heads}, {"num_hidden_layers", r.num_layers},
                      {"vocab_size", vocab}, {"max_position_embeddings", r.max_positions},
                      {"tie_word_embeddings", r.tie_word_embeddings}, {"torch_dtype", r.dtype},
                      {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}};
  if (bos >= 0) j["bos_token_id"] = bos;
  if (!eos.empty()) j["eos_token_id"] = eos.size() == 1 ? nlohmann::json(eos[0]) : nlohmann::json(eos);
  const ModelConfig config = parse_model_config(j, "create-model");
  const auto model = init_llama(config, r.seed);
  save_llama(*model, r.out_dir);
  if (!tokenizer_dir.empty()) {
    for (const char* name : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"}) {
      const fs::path from = tokenizer_dir / name;
      if (fs::exists(from)) fs::copy_file(from, fs::path(r.out_dir) / name, fs::copy_options::overwrite_existing);
    }
  }
  return config.num_parameters();
}

}  // namespace imsm
