#include "recipes/pretrain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include "data/knowledge.h"
#include "data/numeracy.h"
#include "data/shuffle.h"
#include "io/hf_config.h"
#include "io/json_file.h"
#include "model/loader.h"
#include "recipes/eval.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/tokenizer.h"
#include "train/optimizer.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/log.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

struct Recipe {
  std::string output_dir;
  uint64_t seed = 1;
  std::string wordnet = "/usr/share/wordnet";
  int64_t concepts = 800;
  bool in_context = false;  // statements followed by their question (data/knowledge.h)
  bool numbers = false;  // add number facts (data/numeracy.h) to the corpus
  data::NumeracyOptions numeracy;
  int64_t vocab_size = 4096;
  bool split_digits = true;
  nlohmann::json model = {{"hidden_size", 256}, {"intermediate_size", 512}, {"num_hidden_layers", 4}, {"num_attention_heads", 8},
                          {"num_key_value_heads", 4}, {"max_position_embeddings", 256}};
  TrainOptions training;
  int64_t probes = 200;

  nlohmann::json to_json() const {
    nlohmann::json corpus = {{"wordnet", wordnet}, {"concepts", concepts}, {"in_context", in_context}};
    if (numbers)
      corpus["numbers"] = {{"max_value", numeracy.max_value}, {"max_addend", numeracy.max_addend}, {"max_factor", numeracy.max_factor},
                           {"max_scaled", numeracy.max_scaled}, {"facts_per_document", numeracy.facts_per_document}};
    return {{"output_dir", output_dir}, {"seed", seed}, {"corpus", corpus},
            {"tokenizer", {{"vocab_size", vocab_size}, {"split_digits", split_digits}}}, {"model", model},
            {"training", {{"epochs", training.num_epochs}, {"batch_size", training.batch_size}, {"learning_rate", training.learning_rate},
                          {"warmup_ratio", training.warmup_ratio}, {"weight_decay", training.weight_decay},
                          {"max_grad_norm", training.max_grad_norm}}},
            {"probes", probes}};
  }
};

Recipe read_recipe(const std::string& path) {
  const auto j = json::read_file(path);
  json::require_known_keys(j, {"output_dir", "seed", "corpus", "tokenizer", "model", "training", "probes"}, path);
  Recipe r;
  r.output_dir = json::get_string(j, "output_dir", path);
  if (fs::path(r.output_dir).is_relative()) r.output_dir = (fs::absolute(path).parent_path() / r.output_dir).lexically_normal().string();
  r.seed = static_cast<uint64_t>(json::get_int_or(j, "seed", 1, path));
  r.probes = json::get_int_or(j, "probes", r.probes, path);
  if (j.contains("corpus")) {
    const auto& c = j["corpus"];
    json::require_known_keys(c, {"wordnet", "concepts", "in_context", "numbers"}, path + ": corpus");
    if (c.contains("in_context")) {
      if (!c["in_context"].is_boolean()) throw_bad_input(path + ": corpus: in_context", "must be true or false");
      r.in_context = c["in_context"].get<bool>();
    }
    r.wordnet = json::get_string_or(c, "wordnet", r.wordnet, path + ": corpus");
    r.concepts = json::get_int_or(c, "concepts", r.concepts, path + ": corpus");
    if (c.contains("numbers")) {
      const auto& n = c["numbers"];
      const std::string where = path + ": corpus: numbers";
      json::require_known_keys(n, {"max_value", "max_addend", "max_factor", "max_scaled", "facts_per_document"}, where);
      r.numbers = true;
      auto& o = r.numeracy;
      o.max_value = json::get_int_or(n, "max_value", o.max_value, where);
      o.max_addend = json::get_int_or(n, "max_addend", o.max_addend, where);
      o.max_factor = json::get_int_or(n, "max_factor", o.max_factor, where);
      o.max_scaled = json::get_int_or(n, "max_scaled", o.max_scaled, where);
      o.facts_per_document = json::get_int_or(n, "facts_per_document", o.facts_per_document, where);
    }
  }
  if (j.contains("tokenizer")) {
    const std::string where = path + ": tokenizer";
    json::require_known_keys(j["tokenizer"], {"vocab_size", "split_digits"}, where);
    r.vocab_size = json::get_int_or(j["tokenizer"], "vocab_size", r.vocab_size, where);
    if (j["tokenizer"].contains("split_digits")) {
      if (!j["tokenizer"]["split_digits"].is_boolean()) throw_bad_input(where + ": split_digits", "must be true or false");
      r.split_digits = j["tokenizer"]["split_digits"].get<bool>();
    }
  }
  if (j.contains("model")) {
    json::require_known_keys(j["model"], {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                            "max_position_embeddings", "rope_theta", "rms_norm_eps"}, path + ": model");
    r.model.update(j["model"]);
  }
  auto& t = r.training;
  t.num_epochs = 20;
  t.batch_size = 32;
  t.learning_rate = 3e-3;
  t.warmup_ratio = 0.02;
  t.weight_decay = 0.01;
  t.seed = r.seed;
  if (j.contains("training")) {
    const auto& c = j["training"];
    const std::string where = path + ": training";
    json::require_known_keys(c, {"epochs", "batch_size", "learning_rate", "warmup_ratio", "weight_decay", "max_grad_norm"}, where);
    t.num_epochs = json::get_int_or(c, "epochs", t.num_epochs, where);
    t.batch_size = json::get_int_or(c, "batch_size", t.batch_size, where);
    t.learning_rate = json::get_number_or(c, "learning_rate", t.learning_rate, where);
    t.warmup_ratio = json::get_number_or(c, "warmup_ratio", t.warmup_ratio, where);
    t.weight_decay = json::get_number_or(c, "weight_decay", t.weight_decay, where);
    t.max_grad_norm = json::get_number_or(c, "max_grad_norm", t.max_grad_norm, where);
  }
  if (t.num_epochs <= 0 || t.batch_size <= 0 || r.concepts <= 0 || r.probes < 0)
    throw_bad_input(path, "epochs, batch_size and concepts must be positive, probes non-negative");
  return r;
}

// Batches of similar length (little padding), in a seeded order.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<EncodedExample>& docs, int64_t batch_size, uint64_t seed) {
  std::vector<size_t> order(docs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  data::shuffle(order, seed);
  const size_t B = static_cast<size_t>(batch_size), window = B * 32;
  std::vector<std::vector<size_t>> batches;
  for (size_t w = 0; w < order.size(); w += window) {
    const auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), w + window));
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(w), end,
                     [&](size_t a, size_t b) { return docs[a].ids.size() < docs[b].ids.size(); });
    for (size_t s = w; s < std::min(order.size(), w + window); s += B)
      batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(s), order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), s + B)));
  }
  data::shuffle(batches, seed + 1);
  return batches;
}

}  // namespace

PretrainSummary run_pretrain(const std::string& recipe_path, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  const Recipe r = read_recipe(recipe_path);
  PretrainSummary s;
  s.output_dir = r.output_dir;

  // 1. The corpus: WordNet facts as documents (and number facts).
  hooks.progress({"corpus"});
  const auto wn = data::WordNet::load(r.wordnet);
  data::KnowledgeOptions ko;
  ko.concepts = r.concepts;
  ko.seed = r.seed;
  const auto facts = data::wordnet_facts(wn, ko);
  auto corpus = data::knowledge_corpus(facts, r.seed, r.in_context);
  if (r.numbers) {
    data::NumeracyOptions no = r.numeracy;
    no.seed = r.seed;
    for (auto& doc : data::numeracy_corpus(no)) corpus.push_back(std::move(doc));
    data::shuffle(corpus, r.seed + 2);
  }
  s.documents = static_cast<int64_t>(corpus.size());

  // 2. The tokenizer, trained on the corpus and read back by the ordinary loader.
  hooks.progress({"tokenizer"});
  fs::create_directories(r.output_dir);
  BpeTrainOptions bo;
  bo.vocab_size = r.vocab_size;
  bo.split_digits = r.split_digits;
  const TrainedBpe bpe = train_bpe(corpus, bo);
  json::write_text_atomically((fs::path(r.output_dir) / "tokenizer.json").string(), tokenizer_json(bpe, bo).dump());
  json::write_file((fs::path(r.output_dir) / "tokenizer_config.json").string(), tokenizer_config_json(bo));
  const auto tokenizer = load_tokenizer(r.output_dir);
  const int32_t bos = tokenizer->token_to_id(bo.bos_token), eos = tokenizer->token_to_id(bo.eos_token);

  // 3. The model.
  nlohmann::json mc = r.model;
  mc["architectures"] = {"LlamaForCausalLM"};
  mc["model_type"] = "llama";
  mc["vocab_size"] = static_cast<int64_t>(bpe.vocab.size());
  mc["tie_word_embeddings"] = true;
  mc["bos_token_id"] = bos;
  mc["eos_token_id"] = eos;
  mc["torch_dtype"] = "float32";
  const ModelConfig config = parse_model_config(mc, recipe_path + ": model");
  auto model = init_llama(config, r.seed);
  s.parameters = config.num_parameters();
  std::vector<NamedParameter> params;
  std::set<const void*> seen;
  for (auto& [name, t] : model->named_weights()) {
    if (!seen.insert(t.data_ptr()).second) continue;  // a tied weight once
    t.requires_grad_(true);
    params.push_back({name, t});
  }
  auto optimizer = make_optimizer("adamw", params, r.training.weight_decay);
  std::vector<torch::Tensor> grads_of;
  for (const auto& p : params) grads_of.push_back(p.tensor);

  std::vector<EncodedExample> docs;
  const int64_t max_len = config.max_position_embeddings;
  for (const auto& text : corpus) {
    EncodedExample e;
    e.ids.push_back(bos);
    for (int32_t id : tokenizer->encode(text, false)) e.ids.push_back(id);
    e.ids.push_back(eos);
    if (static_cast<int64_t>(e.ids.size()) > max_len) e.ids.resize(static_cast<size_t>(max_len));
    e.labels = e.ids;
    s.tokens_per_epoch += static_cast<int64_t>(e.ids.size());
    docs.push_back(std::move(e));
  }

  // 4. Training: causal LM on every token, AdamW, warm-up then cosine decay.
  const int64_t per_epoch = (static_cast<int64_t>(docs.size()) + r.training.batch_size - 1) / r.training.batch_size;
  const int64_t total = per_epoch * r.training.num_epochs;
  const auto train_start = std::chrono::steady_clock::now();
  int64_t tokens_seen = 0;
  for (int64_t epoch = 0; epoch < r.training.num_epochs && s.status == RunStatus::Finished; ++epoch) {
    double epoch_loss = 0;
    int64_t epoch_batches_done = 0;
    for (const auto& batch_ids : epoch_batches(docs, r.training.batch_size, r.seed * 1000003 + static_cast<uint64_t>(epoch))) {
      hooks.check_abort("pretraining cancelled at step " + std::to_string(s.steps));
      std::vector<const EncodedExample*> rows;
      for (size_t i : batch_ids) rows.push_back(&docs[i]);
      const TrainBatch b = collate(rows, model->device());
      ForwardInput in;
      in.input_ids = b.ids;
      in.attention_mask = b.mask;
      const torch::Tensor loss = causal_lm_loss(model->forward(in), b.labels);  // scalar
      optimizer->zero_grad();
      loss.backward();
      if (r.training.max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(grads_of, r.training.max_grad_norm);
      const double lr = scheduled_lr(r.training, s.steps, total);
      optimizer->step(lr);
      const double l = loss.item<double>();
      if (!std::isfinite(l)) {
        s.status = RunStatus::Diverged;
        break;
      }
      ++s.steps;
      ++epoch_batches_done;
      epoch_loss += l;
      tokens_seen += b.tokens;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
      StepRecord step;
      step.step = s.steps;
      step.total_steps = total;
      step.epoch = epoch;
      step.loss = l;
      step.learning_rate = lr;
      step.tokens_per_second = tokens_seen / std::max(elapsed, 1e-9);
      step.eta_seconds = elapsed / static_cast<double>(s.steps) * static_cast<double>(total - s.steps);
      hooks.step(step);
    }
    if (epoch_batches_done) s.final_loss = epoch_loss / static_cast<double>(epoch_batches_done);
  }
  for (auto& p : params) p.tensor.requires_grad_(false);

  // 5. The model folder, then the probes: does it know what it read?
  if (s.status == RunStatus::Finished) {
    save_llama(*model, r.output_dir);
    json::write_file((fs::path(r.output_dir) / "pretrain_recipe.json").string(), r.to_json());
    if (r.probes > 0) {
      hooks.progress({"probing"});
      const std::string probe_file = (fs::path(r.output_dir) / "probes.jsonl").string();
      std::string lines;
      for (const auto& p : data::wordnet_qa(facts, r.probes, r.seed + 7))
        lines += nlohmann::json{{"input", p.input}, {"output", p.output}}.dump() + "\n";
      json::write_text_atomically(probe_file, lines);
      EvalRequest q;
      q.source.model_dir = r.output_dir;
      q.dataset = probe_file;
      q.task = "webq";
      q.max_new_tokens = 8;
      q.batch_size = 32;
      const EvalResult probe = run_eval(q);
      s.probe_contain = probe.scores.at("Contain");
      s.probe_em = probe.scores.at("EM");
      fs::remove(probe_file);
    }
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  json::write_file((fs::path(r.output_dir) / "pretrain_log.json").string(),
                   {{"status", status_name(s.status)}, {"parameters", s.parameters}, {"documents", s.documents}, {"tokens_per_epoch", s.tokens_per_epoch},
                    {"steps", s.steps}, {"final_epoch_loss", s.final_loss}, {"probe_contain", s.probe_contain}, {"probe_em", s.probe_em},
                    {"seconds", s.seconds}});
  return s;
}

}  // namespace imsm
