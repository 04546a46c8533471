#include "io/hf_config.h"

#include "util/error.h"

namespace imsm {

namespace {
const char* kSupported = "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM";

std::string model_type_of(const std::string& arch) {
  if (arch == "LlamaForCausalLM") return "llama";
  if (arch == "MistralForCausalLM") return "mistral";
  if (arch == "Qwen2ForCausalLM") return "qwen2";
  if (arch == "Qwen3ForCausalLM") return "qwen3";
  return "";
}

int64_t positive(const nlohmann::json& j, const std::string& key, const std::string& where) {
  const int64_t v = json::get_int(j, key, where);
  if (v <= 0) throw_bad_input(where, "key \"" + key + "\" must be positive, got " + std::to_string(v));
  return v;
}

std::vector<int64_t> id_list(const nlohmann::json& j, const std::string& key, const std::string& where) {
  std::vector<int64_t> out;
  if (!j.contains(key) || j.at(key).is_null()) return out;
  const auto& v = j.at(key);
  if (v.is_number_integer()) {
    out.push_back(v.get<int64_t>());
  } else if (v.is_array()) {
    for (const auto& e : v) {
      if (!e.is_number_integer()) throw_bad_input(where, "key \"" + key + "\" must hold integer token ids");
      out.push_back(e.get<int64_t>());
    }
  } else {
    throw_bad_input(where, "key \"" + key + "\" must be a token id or a list of ids");
  }
  return out;
}

// "architectures"[0], else the class of "model_type".
void read_architecture(const nlohmann::json& j, const std::string& where, ModelConfig& c) {
  if (j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string()) {
    c.architecture = j["architectures"][0].get<std::string>();
  } else {
    const std::string type = json::get_string_or(j, "model_type", "", where);
    if (type == "llama") c.architecture = "LlamaForCausalLM";
    else if (type == "mistral") c.architecture = "MistralForCausalLM";
    else if (type == "qwen2") c.architecture = "Qwen2ForCausalLM";
    else if (type == "qwen3") c.architecture = "Qwen3ForCausalLM";
    else throw_bad_input(where, "no \"architectures\" and unknown \"model_type\" \"" + type + "\"; supported: " + kSupported);
  }
  c.model_type = model_type_of(c.architecture);
  if (c.model_type.empty())
    throw_bad_input(where, "unsupported architecture \"" + c.architecture + "\"; supported: " + kSupported);
}

// The sizes: hidden, MLP, heads (grouped-query), layers, vocabulary, head_dim.
void read_shapes(const nlohmann::json& j, const std::string& where, ModelConfig& c) {
  c.hidden_size = positive(j, "hidden_size", where);
  c.intermediate_size = positive(j, "intermediate_size", where);
  c.num_attention_heads = positive(j, "num_attention_heads", where);
  c.num_key_value_heads = json::get_int_or(j, "num_key_value_heads", c.num_attention_heads, where);
  c.num_hidden_layers = positive(j, "num_hidden_layers", where);
  c.vocab_size = positive(j, "vocab_size", where);
  if (c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads != 0)
    throw_bad_input(where, "num_attention_heads (" + std::to_string(c.num_attention_heads) +
                               ") must be a multiple of num_key_value_heads (" + std::to_string(c.num_key_value_heads) + ")");
  // Qwen3Config's head_dim defaults to 128, not hidden / heads.
  c.head_dim = json::get_int_or(j, "head_dim", c.model_type == "qwen3" ? 128 : 0, where);
  if (c.head_dim == 0) {
    if (c.hidden_size % c.num_attention_heads != 0)
      throw_bad_input(where, "hidden_size is not divisible by num_attention_heads and no head_dim is given");
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) throw_bad_input(where, "head_dim must be a positive even number");
}

// Biases, q/k norms and the sliding window, as each family's config class sets them.
void read_layer_options(const nlohmann::json& j, const std::string& where, ModelConfig& c) {
  c.attention_bias = json::get_bool_or(j, "attention_bias", false, where);
  c.o_proj_bias = c.attention_bias;  // Llama's attention_bias covers q, k, v and o
  if (c.model_type == "qwen2") {      // Qwen2 always has q/k/v bias and no o_proj bias
    c.attention_bias = true;
    c.o_proj_bias = false;
  }
  c.qk_norm = c.model_type == "qwen3";  // Qwen3 normalises each head's queries and keys
  c.mlp_bias = json::get_bool_or(j, "mlp_bias", false, where);
  if (j.contains("sliding_window") && j["sliding_window"].is_number_integer())
    c.sliding_window = j["sliding_window"].get<int64_t>();
  const bool qwen = c.model_type == "qwen2" || c.model_type == "qwen3";
  if (qwen && !json::get_bool_or(j, "use_sliding_window", false, where)) c.sliding_window = 0;
  c.hidden_act = json::get_string_or(j, "hidden_act", "silu", where);
  if (c.hidden_act != "silu") throw_bad_input(where, "hidden_act \"" + c.hidden_act + "\" is not supported (only silu)");
}

// transformers 4.x writes "rope_theta" and "rope_scaling"; 5.x one "rope_parameters"
// object holding rope_theta, rope_type and the scaling's fields.
void read_rope(const nlohmann::json& j, const std::string& where, ModelConfig& c) {
  const bool v5 = j.contains("rope_parameters") && !j["rope_parameters"].is_null();
  const std::string rope_key = v5 ? "rope_parameters" : "rope_scaling";
  if (!j.contains(rope_key) || j[rope_key].is_null()) return;
  const auto& rs = j[rope_key];
  const std::string rw = where + " (" + rope_key + ")";
  if (!rs.is_object()) throw_bad_input(where, "\"" + rope_key + "\" must be an object or null");
  if (v5) c.rope_theta = json::get_number_or(rs, "rope_theta", c.rope_theta, rw);
  std::string type = json::get_string_or(rs, "rope_type", json::get_string_or(rs, "type", "default", rw), rw);
  if (type == "default") type = "none";
  if (type != "none" && type != "linear" && type != "dynamic" && type != "llama3")
    throw_bad_input(rw, "rope type \"" + type + "\" is not supported (linear, dynamic, llama3)");
  c.rope_scaling.type = type;
  if (type != "none") c.rope_scaling.factor = json::get_number_or(rs, "factor", 1.0, rw);
  if (type == "llama3") {
    c.rope_scaling.low_freq_factor = json::get_number_or(rs, "low_freq_factor", 1.0, rw);
    c.rope_scaling.high_freq_factor = json::get_number_or(rs, "high_freq_factor", 4.0, rw);
    c.rope_scaling.original_max_position_embeddings = json::get_int(rs, "original_max_position_embeddings", rw);
  }
  if (type == "dynamic")
    c.rope_scaling.original_max_position_embeddings =
        json::get_int_or(rs, "original_max_position_embeddings", c.max_position_embeddings, rw);
  if (c.rope_scaling.factor <= 0) throw_bad_input(rw, "factor must be positive");
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw_bad_input(where, "config.json must be a JSON object");
  ModelConfig c;
  read_architecture(j, where, c);
  read_shapes(j, where, c);
  c.max_position_embeddings = json::get_int_or(j, "max_position_embeddings", 2048, where);
  c.rms_norm_eps = json::get_number_or(j, "rms_norm_eps", 1e-6, where);
  c.rope_theta = json::get_number_or(j, "rope_theta", 10000.0, where);
  c.tie_word_embeddings = json::get_bool_or(j, "tie_word_embeddings", false, where);
  read_layer_options(j, where, c);
  c.torch_dtype = json::get_string_or(j, "torch_dtype", json::get_string_or(j, "dtype", "float32", where), where);
  if (c.torch_dtype != "float32" && c.torch_dtype != "float16" && c.torch_dtype != "bfloat16")
    throw_bad_input(where, "torch_dtype \"" + c.torch_dtype + "\" is not supported (float32, float16, bfloat16)");
  const auto bos = id_list(j, "bos_token_id", where);
  c.bos_token_id = bos.empty() ? -1 : bos.front();
  c.eos_token_ids = id_list(j, "eos_token_id", where);
  const auto pad = id_list(j, "pad_token_id", where);
  c.pad_token_id = pad.empty() ? -1 : pad.front();
  read_rope(j, where, c);
  for (const int64_t id : c.eos_token_ids)
    if (id < 0 || id >= c.vocab_size) throw_bad_input(where, "eos_token_id " + std::to_string(id) + " is outside the vocabulary");
  return c;
}

ModelConfig read_model_config(const std::string& path) { return parse_model_config(json::read_file(path), path); }

int64_t ModelConfig::num_parameters() const {
  const int64_t q = num_attention_heads * head_dim, kv = num_key_value_heads * head_dim;
  int64_t per_layer = hidden_size * (q + 2 * kv) + q * hidden_size + 3 * hidden_size * intermediate_size + 2 * hidden_size;
  if (attention_bias) per_layer += q + 2 * kv;
  if (o_proj_bias) per_layer += hidden_size;
  if (mlp_bias) per_layer += 2 * intermediate_size + hidden_size;
  if (qk_norm) per_layer += 2 * head_dim;
  int64_t total = per_layer * num_hidden_layers + vocab_size * hidden_size + hidden_size;
  if (!tie_word_embeddings) total += vocab_size * hidden_size;
  return total;
}

nlohmann::json ModelConfig::to_json() const {
  nlohmann::json j = {
      {"architectures", {architecture}},
      {"model_type", model_type},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"head_dim", head_dim},
      {"num_hidden_layers", num_hidden_layers},
      {"vocab_size", vocab_size},
      {"max_position_embeddings", max_position_embeddings},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"tie_word_embeddings", tie_word_embeddings},
      {"hidden_act", hidden_act},
      {"torch_dtype", torch_dtype},
  };
  if (model_type != "qwen2") j["attention_bias"] = attention_bias;
  if (mlp_bias) j["mlp_bias"] = true;
  if (bos_token_id >= 0) j["bos_token_id"] = bos_token_id;
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else if (!eos_token_ids.empty()) j["eos_token_id"] = eos_token_ids;
  if (rope_scaling.type != "none") {
    nlohmann::json rs = {{"rope_type", rope_scaling.type}, {"factor", rope_scaling.factor}};
    if (rope_scaling.type == "llama3") {
      rs["low_freq_factor"] = rope_scaling.low_freq_factor;
      rs["high_freq_factor"] = rope_scaling.high_freq_factor;
      rs["original_max_position_embeddings"] = rope_scaling.original_max_position_embeddings;
    }
    j["rope_scaling"] = rs;
  }
  return j;
}

}  // namespace imsm
