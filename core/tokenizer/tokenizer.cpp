#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "io/json_file.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/sp_tokenizer.h"
#include "tokenizer/tokenizer_config.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {
std::string token_text(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return "";
  const auto& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  throw_bad_input(where, "key \"" + key + "\" must be a token string or an object with \"content\"");
}
std::optional<bool> optional_bool(const nlohmann::json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return json::get_bool_or(j, key, false, where);
}
}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& path) {
  TokenizerConfig c;
  if (!fs::exists(path)) return c;
  const auto j = json::read_file(path);
  if (!j.is_object()) throw_bad_input(path, "tokenizer_config.json must be a JSON object");
  c.add_bos_token = optional_bool(j, "add_bos_token", path);
  c.add_eos_token = optional_bool(j, "add_eos_token", path);
  c.bos_token = token_text(j, "bos_token", path);
  c.eos_token = token_text(j, "eos_token", path);
  c.clean_up_tokenization_spaces = json::get_bool_or(j, "clean_up_tokenization_spaces", true, path);
  if (j.contains("additional_special_tokens") && j["additional_special_tokens"].is_array()) {
    for (const auto& t : j["additional_special_tokens"]) {
      if (t.is_string()) c.additional_special_tokens.push_back(t.get<std::string>());
      else if (t.is_object() && t.contains("content")) c.additional_special_tokens.push_back(t["content"].get<std::string>());
    }
  }
  return c;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  fs::path file(path);
  if (fs::is_directory(file)) {
    if (fs::exists(file / "tokenizer.json")) file /= "tokenizer.json";
    else if (fs::exists(file / "tokenizer.model")) file /= "tokenizer.model";
    else throw_bad_input(path, "no tokenizer.json or tokenizer.model in this folder");
  }
  if (!fs::exists(file)) throw_bad_input(file.string(), "no such file");
  const TokenizerConfig config = read_tokenizer_config((file.parent_path() / "tokenizer_config.json").string());
  if (file.extension() == ".model") return load_sentencepiece_tokenizer(file.string(), config);
  return load_hf_tokenizer(file.string(), config);
}

}  // namespace imsm
