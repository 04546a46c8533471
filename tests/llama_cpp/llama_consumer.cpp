// llama.cpp as the consumer of what `imsm export --format gguf` writes: its
// own library (libllama, from the set-up's build) loads the file and decodes,
// as llama-cli and Ollama do. The tests compare what it prints with the engine.
//
//   llama_consumer greedy MODEL.gguf PROMPTS.json N [LORA.gguf]
//     PROMPTS.json: a JSON array of strings. Each is tokenized by llama.cpp
//     (its BOS rule, special tokens parsed) and continued greedily for N
//     tokens or to an end-of-generation token; one JSON line per prompt:
//     {"prompt_ids": [...], "ids": [...]}.
//   llama_consumer perplexity MODEL.gguf TEXT.txt CTX
//     The text's tokens in windows of CTX; each window decoded alone, every
//     token after its first scored: {"tokens": n, "nll": mean, "perplexity": exp(mean)}.
//
// Threads: 2, the test machines' cores. Exit 1 with one line on stderr when
// llama.cpp refuses the file.
#include <llama.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

[[noreturn]] void die(const std::string& message) {
  std::cerr << "llama_consumer: " << message << "\n";
  std::exit(1);
}

void quiet(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Session {
  llama_model* model = nullptr;
  llama_context* ctx = nullptr;
  llama_adapter_lora* lora = nullptr;
  const llama_vocab* vocab = nullptr;

  Session(const std::string& path, int n_ctx, const std::string& lora_path) {
    llama_model_params mp = llama_model_default_params();
    model = llama_model_load_from_file(path.c_str(), mp);
    if (model == nullptr) die("llama.cpp could not load " + path);
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(n_ctx);
    cp.n_batch = cp.n_ubatch = static_cast<uint32_t>(n_ctx);
    cp.n_threads = cp.n_threads_batch = 2;
    ctx = llama_init_from_model(model, cp);
    if (ctx == nullptr) die("llama.cpp could not make a context for " + path);
    vocab = llama_model_get_vocab(model);
    if (!lora_path.empty()) {
      lora = llama_adapter_lora_init(model, lora_path.c_str());
      if (lora == nullptr) die("llama.cpp could not load the LoRA " + lora_path);
      float scale = 1.0f;
      if (llama_set_adapters_lora(ctx, &lora, 1, &scale) != 0) die("llama.cpp could not apply the LoRA " + lora_path);
    }
  }
  ~Session() {
    llama_free(ctx);
    if (lora) llama_adapter_lora_free(lora);
    llama_model_free(model);
  }

  std::vector<llama_token> tokenize(const std::string& text) const {
    std::vector<llama_token> ids(text.size() + 8);
    int n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(), static_cast<int32_t>(ids.size()), true, true);
    if (n < 0) {
      ids.resize(static_cast<size_t>(-n));
      n = llama_tokenize(vocab, text.data(), static_cast<int32_t>(text.size()), ids.data(), static_cast<int32_t>(ids.size()), true, true);
    }
    ids.resize(static_cast<size_t>(n));
    return ids;
  }

  // Decodes `ids` at positions [start, start + n), logits for every token when `all`, else the last.
  void decode(const std::vector<llama_token>& ids, int start, bool all) {
    llama_batch batch = llama_batch_init(static_cast<int32_t>(ids.size()), 0, 1);
    for (size_t i = 0; i < ids.size(); ++i) {
      batch.token[i] = ids[i];
      batch.pos[i] = start + static_cast<int>(i);
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = 0;
      batch.logits[i] = all || i + 1 == ids.size();
    }
    batch.n_tokens = static_cast<int32_t>(ids.size());
    const int rc = llama_decode(ctx, batch);
    llama_batch_free(batch);
    if (rc != 0) die("llama_decode failed (" + std::to_string(rc) + ")");
  }
};

int argmax(const float* logits, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

int greedy(const std::string& model, const std::string& prompts_path, int n_new, const std::string& lora) {
  const auto prompts = nlohmann::json::parse(slurp(prompts_path));
  Session s(model, 1024, lora);
  const int n_vocab = llama_vocab_n_tokens(s.vocab);
  for (const auto& p : prompts) {
    llama_memory_clear(llama_get_memory(s.ctx), true);
    const std::vector<llama_token> prompt = s.tokenize(p.get<std::string>());
    std::vector<llama_token> out;
    s.decode(prompt, 0, false);
    for (int t = 0; t < n_new; ++t) {
      const int next = argmax(llama_get_logits_ith(s.ctx, -1), n_vocab);
      out.push_back(next);
      if (llama_vocab_is_eog(s.vocab, next)) break;
      s.decode({next}, static_cast<int>(prompt.size() + out.size()) - 1, false);
    }
    std::cout << nlohmann::json{{"prompt_ids", prompt}, {"ids", out}}.dump() << "\n";
  }
  return 0;
}

int perplexity(const std::string& model, const std::string& text_path, int n_ctx) {
  Session s(model, n_ctx, "");
  const int n_vocab = llama_vocab_n_tokens(s.vocab);
  const std::vector<llama_token> all = s.tokenize(slurp(text_path));
  double nll = 0;
  int64_t scored = 0;
  for (size_t begin = 0; begin + 1 < all.size(); begin += static_cast<size_t>(n_ctx)) {
    const size_t end = std::min(all.size(), begin + static_cast<size_t>(n_ctx));
    const std::vector<llama_token> window(all.begin() + static_cast<long>(begin), all.begin() + static_cast<long>(end));
    llama_memory_clear(llama_get_memory(s.ctx), true);
    s.decode(window, 0, true);
    for (size_t i = 0; i + 1 < window.size(); ++i) {
      const float* logits = llama_get_logits_ith(s.ctx, static_cast<int32_t>(i));
      double max = logits[0], sum = 0;
      for (int v = 1; v < n_vocab; ++v) max = std::max(max, static_cast<double>(logits[v]));
      for (int v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(logits[v]) - max);
      nll += max + std::log(sum) - logits[window[i + 1]];
      ++scored;
    }
  }
  const double mean = nll / static_cast<double>(scored);
  std::cout << nlohmann::json{{"tokens", scored}, {"nll", mean}, {"perplexity", std::exp(mean)}}.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> a(argv + 1, argv + argc);
  llama_log_set(quiet, nullptr);
  llama_backend_init();
  int rc = 2;
  if (a.size() >= 4 && a[0] == "greedy") rc = greedy(a[1], a[2], std::stoi(a[3]), a.size() > 4 ? a[4] : "");
  else if (a.size() == 4 && a[0] == "perplexity") rc = perplexity(a[1], a[2], std::stoi(a[3]));
  else std::cerr << "usage: llama_consumer greedy MODEL.gguf PROMPTS.json N [LORA.gguf] | perplexity MODEL.gguf TEXT.txt CTX\n";
  llama_backend_free();
  return rc;
}
