#include "tokenizer/sp_tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>

#include "tokenizer/spm_shim.h"
#include "util/error.h"

namespace imsm {

namespace {

// GCC says it is under AddressSanitizer with __SANITIZE_ADDRESS__, clang with __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IMSM_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(IMSM_UNDER_ASAN)
// AddressSanitizer refuses RTLD_DEEPBIND; sanitizer builds have no LibTorch,
// hence no second protobuf to keep apart.
constexpr int kFlags = RTLD_NOW | RTLD_LOCAL;
#else
constexpr int kFlags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif

// The shim module, opened once per tokenizer (dlopen reference-counts it).
class Shim {
 public:
  Shim() {
    std::string tried;
    for (const std::string& path : candidates()) {
      handle_ = ::dlopen(path.c_str(), kFlags);
      if (handle_) break;
      tried += " " + path;
    }
    if (!handle_) throw_internal("cannot load the SentencePiece module libimsm_spm.so (looked at" + tried + "); set IMSM_SPM_MODULE to its path");
    bind(load, "imsm_spm_load");
    bind(free_model, "imsm_spm_free");
    bind(encode, "imsm_spm_encode");
    bind(decode, "imsm_spm_decode");
    bind(id_to_piece, "imsm_spm_id_to_piece");
    bind(piece_to_id, "imsm_spm_piece_to_id");
    bind(piece_size, "imsm_spm_piece_size");
    bind(special_id, "imsm_spm_special_id");
    bind(is_control, "imsm_spm_is_control");
    bind(free_buffer, "imsm_spm_free_buffer");
  }
  ~Shim() {
    if (handle_) ::dlclose(handle_);
  }
  Shim(const Shim&) = delete;
  Shim& operator=(const Shim&) = delete;

  decltype(&imsm_spm_load) load = nullptr;
  decltype(&imsm_spm_free) free_model = nullptr;
  decltype(&imsm_spm_encode) encode = nullptr;
  decltype(&imsm_spm_decode) decode = nullptr;
  decltype(&imsm_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&imsm_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&imsm_spm_piece_size) piece_size = nullptr;
  decltype(&imsm_spm_special_id) special_id = nullptr;
  decltype(&imsm_spm_is_control) is_control = nullptr;
  decltype(&imsm_spm_free_buffer) free_buffer = nullptr;

 private:
  template <typename F>
  void bind(F& fn, const char* name) {
    fn = reinterpret_cast<F>(::dlsym(handle_, name));
    if (!fn) throw_internal(std::string("libimsm_spm.so lacks ") + name);
  }
  static std::vector<std::string> candidates() {
    std::vector<std::string> out;
    if (const char* env = std::getenv("IMSM_SPM_MODULE")) out.push_back(env);
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
      const std::filesystem::path dir = std::filesystem::path(std::string(exe, n)).parent_path();
      out.push_back((dir / "../lib/libimsm_spm.so").string());
      out.push_back((dir / "libimsm_spm.so").string());
    }
    out.push_back(IMSM_SPM_MODULE_BUILD_PATH);
    return out;
  }
  void* handle_ = nullptr;
};

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::string& path, const TokenizerConfig& config) {
    char error[512] = {0};
    model_ = shim_.load(path.c_str(), error, sizeof(error));
    if (!model_) throw_bad_input(path, std::string("not a SentencePiece model (") + error + ")");
    add_bos_ = config.add_bos_token.value_or(true);  // LlamaTokenizer's default
    add_eos_ = config.add_eos_token.value_or(false);
    bos_id_ = config.bos_token.empty() ? shim_.special_id(model_, 0) : token_to_id(config.bos_token);
    const int eos = config.eos_token.empty() ? shim_.special_id(model_, 1) : token_to_id(config.eos_token);
    if (eos >= 0) eos_ids_.push_back(eos);
  }
  ~SentencePieceTokenizer() override {
    if (model_) shim_.free_model(model_);
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    int* pieces = nullptr;
    const long n = shim_.encode(model_, text.data(), text.size(), &pieces);
    if (n < 0) throw_bad_input("encode", "SentencePiece could not encode the text");
    std::vector<int32_t> ids;
    if (add_special_tokens && add_bos_ && bos_id_ >= 0) ids.push_back(bos_id_);
    ids.insert(ids.end(), pieces, pieces + n);
    shim_.free_buffer(pieces);
    if (add_special_tokens && add_eos_ && !eos_ids_.empty()) ids.push_back(eos_ids_[0]);
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
    std::vector<int> kept;
    for (const int32_t id : ids) {
      if (id < 0 || id >= vocab_size())
        throw_bad_input("decode", "token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                                      std::to_string(vocab_size() - 1) + ")");
      if (skip_special_tokens && is_special(id)) continue;
      kept.push_back(id);
    }
    char* text = shim_.decode(model_, kept.data(), kept.size());
    std::string out = text ? text : "";
    shim_.free_buffer(text);
    return out;
  }

  int64_t vocab_size() const override { return shim_.piece_size(model_); }
  std::string id_to_token(int32_t id) const override {
    char* piece = shim_.id_to_piece(model_, id);
    std::string out = piece ? piece : "";
    shim_.free_buffer(piece);
    return out;
  }
  int32_t token_to_id(std::string_view token) const override {
    return shim_.piece_to_id(model_, std::string(token).c_str());
  }
  bool is_special(int32_t id) const override { return shim_.is_control(model_, id) != 0; }
  std::string kind() const override { return "tokenizer.model: SentencePiece"; }

 private:
  Shim shim_;
  void* model_ = nullptr;
  bool add_bos_ = true, add_eos_ = false;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& path, const TokenizerConfig& config) {
  return std::make_unique<SentencePieceTokenizer>(path, config);
}

}  // namespace imsm
