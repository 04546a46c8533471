#include "views/inspect.h"

#include <filesystem>
#include <set>
#include <sstream>

#include "io/checkpoint.h"
#include "io/hf_config.h"
#include "model/layout.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {
std::string bytes_text(int64_t b) {
  std::ostringstream s;
  s.precision(3);
  if (b >= (1LL << 30)) s << static_cast<double>(b) / (1LL << 30) << " GiB";
  else if (b >= (1LL << 20)) s << static_cast<double>(b) / (1LL << 20) << " MiB";
  else s << static_cast<double>(b) / 1024.0 << " KiB";
  return s.str();
}
std::string count_text(int64_t n) {
  std::ostringstream s;
  s.precision(4);
  if (n >= 1000000000) s << static_cast<double>(n) / 1e9 << "B";
  else if (n >= 1000000) s << static_cast<double>(n) / 1e6 << "M";
  else s << n;
  return s.str();
}
}  // namespace

ModelInfo inspect_model(const std::string& dir) {
  refuse_pickled(dir);
  const std::string config_path = (fs::path(dir) / "config.json").string();
  if (!fs::exists(config_path)) throw_bad_input(dir, "no config.json: not a Hugging Face model folder");
  const ModelConfig c = read_model_config(config_path);
  const CheckpointWeights w = CheckpointWeights::open(dir);
  check_layout(c, w, config_path);

  ModelInfo info;
  info.dir = dir;
  info.architecture = c.architecture;
  info.model_type = c.model_type;
  info.num_parameters = c.num_parameters();
  info.num_layers = c.num_hidden_layers;
  info.hidden_size = c.hidden_size;
  info.intermediate_size = c.intermediate_size;
  info.num_heads = c.num_attention_heads;
  info.num_kv_heads = c.num_key_value_heads;
  info.head_dim = c.head_dim;
  info.vocab_size = c.vocab_size;
  info.max_positions = c.max_position_embeddings;
  std::ostringstream rope;
  rope << "theta " << c.rope_theta;
  if (c.rope_scaling.type != "none") rope << ", " << c.rope_scaling.type << " x" << c.rope_scaling.factor;
  info.rope = rope.str();
  info.tied_embeddings = c.tie_word_embeddings;
  info.qkv_bias = c.attention_bias;
  std::set<std::string> dtypes;
  for (const auto& shard : w.shards()) {
    info.weight_files.push_back(fs::path(shard.path()).filename().string());
    info.weight_bytes += static_cast<int64_t>(fs::file_size(shard.path()));
    for (const auto& t : shard.tensors()) dtypes.insert(dtype_name(t.dtype));
  }
  info.stored_dtype = dtypes.size() == 1 ? *dtypes.begin() : "mixed";
  info.memory_f32 = info.num_parameters * 4;
  info.memory_bf16 = info.num_parameters * 2;
  info.kv_cache_bytes_per_token_f32 = 2 * c.num_hidden_layers * c.num_key_value_heads * c.head_dim * 4;
  info.eos_ids = c.eos_token_ids;
  info.bos_id = c.bos_token_id;
  try {
    const auto tok = load_tokenizer(dir);
    info.tokenizer = tok->kind();
    info.tokenizer_vocab = tok->vocab_size();
  } catch (const Error& e) {
    if (fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "tokenizer.model")) throw;
    info.tokenizer = "none";
  }
  return info;
}

nlohmann::json ModelInfo::to_json() const {
  return {{"dir", dir}, {"architecture", architecture}, {"model_type", model_type}, {"parameters", num_parameters},
          {"layers", num_layers}, {"hidden_size", hidden_size}, {"intermediate_size", intermediate_size},
          {"attention_heads", num_heads}, {"kv_heads", num_kv_heads}, {"head_dim", head_dim},
          {"vocab_size", vocab_size}, {"max_position_embeddings", max_positions}, {"rope", rope},
          {"tied_embeddings", tied_embeddings}, {"qkv_bias", qkv_bias}, {"stored_dtype", stored_dtype},
          {"weight_files", weight_files}, {"weight_bytes", weight_bytes},
          {"memory_bytes", {{"f32", memory_f32}, {"bf16", memory_bf16}}},
          {"kv_cache_bytes_per_token_f32", kv_cache_bytes_per_token_f32}, {"tokenizer", tokenizer},
          {"tokenizer_vocab", tokenizer_vocab}, {"bos_id", bos_id}, {"eos_ids", eos_ids}};
}

std::string ModelInfo::to_text() const {
  std::ostringstream s;
  s << "model        " << dir << "\n"
    << "architecture " << architecture << " (" << model_type << ")\n"
    << "parameters   " << count_text(num_parameters) << " (" << num_parameters << ")\n"
    << "shape        " << num_layers << " layers, hidden " << hidden_size << ", mlp " << intermediate_size << ", heads "
    << num_heads << " (kv " << num_kv_heads << ", head_dim " << head_dim << ")\n"
    << "vocab        " << vocab_size << ", context " << max_positions << ", rope " << rope << "\n"
    << "options      " << (tied_embeddings ? "tied" : "separate") << " LM head" << (qkv_bias ? ", q/k/v bias" : "") << "\n"
    << "weights      " << stored_dtype << " in " << weight_files.size() << " file(s), " << bytes_text(weight_bytes) << "\n"
    << "memory       " << bytes_text(memory_f32) << " as f32, " << bytes_text(memory_bf16) << " as bf16; KV cache "
    << bytes_text(kv_cache_bytes_per_token_f32 * 1024) << " per 1k tokens (f32)\n"
    << "tokenizer    " << tokenizer;
  if (tokenizer_vocab > 0) s << ", " << tokenizer_vocab << " tokens";
  s << "\n";
  return s.str();
}

}  // namespace imsm
