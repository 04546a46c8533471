#include "gguf/gguf_vocab.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "chat/chat_template.h"
#include "gguf/gguf_tokenizer.h"
#include "gguf/gguf_write.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {
namespace {

using Json = nlohmann::json;

// llama.cpp's token types (llama-vocab.h).
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5;

// gguf-py's does_token_look_special: control tokens a tokenizer forgot to mark.
bool looks_special(const std::string& t) {
  auto wrapped = [&](const std::string& open, const std::string& close) {
    return t.size() >= open.size() + close.size() && t.compare(0, open.size(), open) == 0 &&
           t.compare(t.size() - close.size(), close.size(), close) == 0;
  };
  return wrapped("<|", "|>") || wrapped("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || t == "<pad>" || t == "<mask>" || t == "<2mass>" ||
         t == "[@BOS@]";
}

// The vocabulary and the merges of a byte-level BPE tokenizer.json.
void read_model(const Json& tokenizer, const std::string& where, int64_t rows, GgufVocab& v) {
  const Json model = tokenizer.value("model", Json::object());
  v.pre = gguf_pre_name(tokenizer.value("pre_tokenizer", Json()), model.value("ignore_merges", false));
  if (model.value("type", "") != "BPE" || v.pre.empty())
    throw_bad_input(where, "is not a byte-level BPE tokenizer that llama.cpp splits as one of its smollm, llama-bpe, qwen2 or gpt-2 "
                           "pre-tokenizers; the GGUF export writes those (Llama 3, Qwen, SmolLM) and not yet SentencePiece ones");
  std::map<int64_t, std::string> by_id;
  const Json vocab = model.value("vocab", Json::object());
  for (const auto& [text, id] : vocab.items())
    if (id.is_number_integer()) by_id[id.get<int64_t>()] = text;
  for (const auto& a : tokenizer.value("added_tokens", Json::array())) by_id[a.value("id", int64_t(-1))] = a.value("content", "");
  if (!by_id.empty() && (by_id.begin()->first < 0 || by_id.rbegin()->first >= rows))
    throw_bad_input(where, "has token ids outside the model's " + std::to_string(rows) + " embedding rows");
  v.tokens.assign(static_cast<size_t>(rows), "");
  v.token_types.assign(static_cast<size_t>(rows), kNormal);
  for (int64_t i = 0; i < rows; ++i) {
    const auto it = by_id.find(i);
    v.tokens[static_cast<size_t>(i)] = it != by_id.end() ? it->second : "[PAD" + std::to_string(i) + "]";
    if (it == by_id.end()) v.token_types[static_cast<size_t>(i)] = kUnused;
  }
  for (const auto& a : tokenizer.value("added_tokens", Json::array())) {
    const auto id = static_cast<size_t>(a.value("id", int64_t(0)));
    v.token_types[id] = a.value("special", false) || looks_special(a.value("content", "")) ? kControl : kUserDefined;
  }
  for (const auto& m : model.value("merges", Json::array()))
    v.merges.push_back(m.is_array() && m.size() == 2 ? m[0].get<std::string>() + " " + m[1].get<std::string>() : m.get<std::string>());
}

// A special token's id from its text in tokenizer_config.json (a string or {"content": ...}), or -1.
int64_t id_of(const Json& entry, const GgufVocab& v, const std::string& where) {
  const std::string text = entry.is_string() ? entry.get<std::string>() : entry.is_object() ? entry.value("content", "") : "";
  if (text.empty()) return -1;
  const auto it = std::find(v.tokens.begin(), v.tokens.end(), text);
  if (it == v.tokens.end()) throw_bad_input(where, "names the special token \"" + text + "\", which is no token of tokenizer.json");
  return it - v.tokens.begin();
}

void add_stop(GgufVocab& v, int64_t id) {
  if (id < 0 || id >= static_cast<int64_t>(v.tokens.size())) return;
  const std::string& text = v.tokens[static_cast<size_t>(id)];
  if (std::find(v.stop_tokens.begin(), v.stop_tokens.end(), text) == v.stop_tokens.end()) v.stop_tokens.push_back(text);
}

}  // namespace

GgufVocab read_hf_vocab(const std::string& model_dir, const ModelConfig& config) {
  const fs::path dir(model_dir);
  const std::string where = (dir / "tokenizer.json").string();
  if (!fs::exists(where)) throw_bad_input(where, "is missing: the GGUF export writes the model's tokenizer into the file");
  GgufVocab v;
  read_model(json::read_file(where), where, config.vocab_size, v);

  const std::string config_path = (dir / "tokenizer_config.json").string();
  const Json tokenizer_config = fs::exists(config_path) ? json::read_file(config_path) : Json::object();
  v.bos = id_of(tokenizer_config.value("bos_token", Json()), v, config_path);
  v.eos = id_of(tokenizer_config.value("eos_token", Json()), v, config_path);
  v.pad = id_of(tokenizer_config.value("pad_token", Json()), v, config_path);
  if (v.bos < 0) v.bos = config.bos_token_id;
  if (v.eos < 0 && !config.eos_token_ids.empty()) v.eos = config.eos_token_ids.front();
  if (v.pad < 0) v.pad = config.pad_token_id;
  v.chat_template = read_chat_template(model_dir);

  // Whether BOS and EOS are added: as this engine's tokenizer (tested against transformers') adds them.
  const auto tokenizer = load_tokenizer(model_dir);
  const std::vector<int32_t> with = tokenizer->encode("a", true), without = tokenizer->encode("a", false);
  v.add_bos = with.size() > without.size() && with.front() == v.bos;
  v.add_eos = with.size() > without.size() && with.back() == v.eos;

  add_stop(v, v.eos);
  for (const int64_t id : config.eos_token_ids) add_stop(v, id);
  const fs::path generation = dir / "generation_config.json";
  const Json eos = fs::exists(generation) ? json::read_file(generation.string()).value("eos_token_id", Json()) : Json();
  for (const auto& id : eos.is_array() ? eos : Json::array({eos}))
    if (id.is_number_integer()) add_stop(v, id.get<int64_t>());
  return v;
}

void write_gguf_vocab(GgufWriter& w, const GgufVocab& v) {
  w.set_text("tokenizer.ggml.model", v.model);
  w.set_text("tokenizer.ggml.pre", v.pre);
  w.set_texts("tokenizer.ggml.tokens", v.tokens);
  w.set_i32s("tokenizer.ggml.token_type", v.token_types);
  w.set_texts("tokenizer.ggml.merges", v.merges);
  if (v.bos >= 0) w.set_u32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(v.bos));
  if (v.eos >= 0) w.set_u32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(v.eos));
  if (v.pad >= 0) w.set_u32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(v.pad));
  w.set_bool("tokenizer.ggml.add_bos_token", v.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", v.add_eos);
  if (!v.chat_template.empty()) w.set_text("tokenizer.chat_template", v.chat_template);
}

}  // namespace imsm
