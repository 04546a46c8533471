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
  bool yes_no = false;      // the kind facts' yes/no questions too (data/knowledge.h)
  bool numbers = false;  // add number facts (data/numeracy.h) to the corpus
  data::NumeracyOptions numeracy;
  int64_t vocab_size = 4096;
  bool split_digits = true;
  nlohmann::json model = {{"hidden_size", 256}, {"intermediate_size", 512}, {"num_hidden_layers", 4}, {"num_attention_heads", 8},
                          {"num_key_value_heads", 4}, {"max_position_embeddings", 256}};
  TrainOptions training;
  int64_t probes = 200;

  nlohmann::json to_json() const {
    nlohmann::json corpus = {{"wordnet", wordnet}, {"concepts", concepts}, {"in_context", in_context}, {"yes_no", yes_no}};
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

void read_corpus(const nlohmann::json& c, const std::string& where, Recipe& r) {
  json::require_known_keys(c, {"wordnet", "concepts", "in_context", "yes_no", "numbers"}, where);
  r.in_context = json::get_bool_or(c, "in_context", r.in_context, where);
  r.yes_no = json::get_bool_or(c, "yes_no", r.yes_no, where);
  r.wordnet = json::get_string_or(c, "wordnet", r.wordnet, where);
  r.concepts = json::get_int_or(c, "concepts", r.concepts, where);
  if (!c.contains("numbers")) return;
  const auto& n = c["numbers"];
  const std::string numbers = where + ": numbers";
  json::require_known_keys(n, {"max_value", "max_addend", "max_factor", "max_scaled", "facts_per_document"}, numbers);
  r.numbers = true;
  auto& o = r.numeracy;
  o.max_value = json::get_int_or(n, "max_value", o.max_value, numbers);
  o.max_addend = json::get_int_or(n, "max_addend", o.max_addend, numbers);
  o.max_factor = json::get_int_or(n, "max_factor", o.max_factor, numbers);
  o.max_scaled = json::get_int_or(n, "max_scaled", o.max_scaled, numbers);
  o.facts_per_document = json::get_int_or(n, "facts_per_document", o.facts_per_document, numbers);
}

void read_training(const nlohmann::json& c, const std::string& where, TrainOptions& t) {
  json::require_known_keys(c, {"epochs", "batch_size", "learning_rate", "warmup_ratio", "weight_decay", "max_grad_norm"}, where);
  t.num_epochs = json::get_int_or(c, "epochs", t.num_epochs, where);
  t.batch_size = json::get_int_or(c, "batch_size", t.batch_size, where);
  t.learning_rate = json::get_number_or(c, "learning_rate", t.learning_rate, where);
  t.warmup_ratio = json::get_number_or(c, "warmup_ratio", t.warmup_ratio, where);
  t.weight_decay = json::get_number_or(c, "weight_decay", t.weight_decay, where);
  t.max_grad_norm = json::get_number_or(c, "max_grad_norm", t.max_grad_norm, where);
}

Recipe read_recipe(const std::string& path) {
  const auto j = json::read_file(path);
  json::require_known_keys(j, {"output_dir", "seed", "corpus", "tokenizer", "model", "training", "probes"}, path);
  Recipe r;
  r.output_dir = json::get_string(j, "output_dir", path);
  if (fs::path(r.output_dir).is_relative()) r.output_dir = (fs::absolute(path).parent_path() / r.output_dir).lexically_normal().string();
  r.seed = static_cast<uint64_t>(json::get_int_or(j, "seed", 1, path));
  r.probes = json::get_int_or(j, "probes", r.probes, path);
  if (j.contains("corpus")) read_corpus(j["corpus"], path + ": corpus", r);
  if (j.contains("tokenizer")) {
    const std::string where = path + ": tokenizer";
    json::require_known_keys(j["tokenizer"], {"vocab_size", "split_digits"}, where);
    r.vocab_size = json::get_int_or(j["tokenizer"], "vocab_size", r.vocab_size, where);
    r.split_digits = json::get_bool_or(j["tokenizer"], "split_digits", r.split_digits, where);
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
  if (j.contains("training")) read_training(j["training"], path + ": training", t);
  if (t.num_epochs <= 0 || t.batch_size <= 0 || r.concepts <= 0 || r.probes < 0)
    throw_bad_input(path, "epochs, batch_size and concepts must be positive, probes non-negative");
  return r;
}

// WordNet facts as documents, and number facts when asked.
std::vector<std::string> make_corpus(const Recipe& r, const std::vector<data::Fact>& facts) {
  auto corpus = data::knowledge_corpus(facts, r.seed, r.in_context, r.yes_no);
  if (r.numbers) {
    data::NumeracyOptions no = r.numeracy;
    no.seed = r.seed;
    for (auto& doc : data::numeracy_corpus(no)) corpus.push_back(std::move(doc));
    data::shuffle(corpus, r.seed + 2);
  }
  return corpus;
}

// The tokenizer, trained on the corpus, written, and read back by the ordinary loader.
std::unique_ptr<Tokenizer> make_tokenizer(const Recipe& r, const std::vector<std::string>& corpus, BpeTrainOptions& bo) {
  bo.vocab_size = r.vocab_size;
  bo.split_digits = r.split_digits;
  const TrainedBpe bpe = train_bpe(corpus, bo);
  json::write_text_atomically((fs::path(r.output_dir) / "tokenizer.json").string(), tokenizer_json(bpe, bo).dump());
  json::write_file((fs::path(r.output_dir) / "tokenizer_config.json").string(), tokenizer_config_json(bo));
  return load_tokenizer(r.output_dir);
}

ModelConfig model_config(const Recipe& r, int64_t vocab_size, int32_t bos, int32_t eos, const std::string& where) {
  nlohmann::json mc = r.model;
  mc["architectures"] = {"LlamaForCausalLM"};
  mc["model_type"] = "llama";
  mc["vocab_size"] = vocab_size;
  mc["tie_word_embeddings"] = true;
  mc["bos_token_id"] = bos;
  mc["eos_token_id"] = eos;
  mc["torch_dtype"] = "float32";
  return parse_model_config(mc, where);
}

// Each document as BOS + text + EOS, cut to the context; the loss on every token.
std::vector<EncodedExample> encode_documents(const std::vector<std::string>& corpus, const Tokenizer& tokenizer, int32_t bos,
                                             int32_t eos, int64_t max_len) {
  std::vector<EncodedExample> docs;
  for (const auto& text : corpus) {
    EncodedExample e;
    e.ids.push_back(bos);
    for (int32_t id : tokenizer.encode(text, false)) e.ids.push_back(id);
    e.ids.push_back(eos);
    if (static_cast<int64_t>(e.ids.size()) > max_len) e.ids.resize(static_cast<size_t>(max_len));
    e.labels = e.ids;
    docs.push_back(std::move(e));
  }
  return docs;
}

// Causal LM on every weight, AdamW, warm-up then cosine decay, batches grouped
// by length; the seed of epoch e is seed·1000003 + e.
TrainOutcome pretrain_weights(LlamaModel& model, const std::vector<EncodedExample>& docs, const Recipe& r, const Hooks& hooks) {
  TrainOptions o = r.training;
  o.seed = r.seed * 1000003;
  o.group_by_length = true;
  FullWeights target(model);
  Trainer trainer(target, docs, o);
  try {
    return trainer.run(hooks);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) throw;
    throw Error(ErrorKind::Cancelled, "pretraining cancelled at step " + std::to_string(trainer.step()) + "; nothing was saved");
  }
}

// The mean loss of the last epoch's finite steps.
double last_epoch_loss(const std::vector<double>& losses, int64_t steps_per_epoch) {
  const size_t whole = static_cast<size_t>(std::max<int64_t>(1, steps_per_epoch));
  const size_t from = losses.empty() ? 0 : (losses.size() - 1) / whole * whole;
  double sum = 0;
  int64_t n = 0;
  for (size_t i = from; i < losses.size(); ++i)
    if (std::isfinite(losses[i])) {
      sum += losses[i];
      ++n;
    }
  return n ? sum / static_cast<double>(n) : 0;
}

// wordnet-qa on `probes` facts of the corpus: does the model know what it read?
void probe(const Recipe& r, const std::vector<data::Fact>& facts, PretrainSummary& s) {
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
  const EvalResult result = run_eval(q);
  s.probe_contain = result.scores.at("Contain");
  s.probe_em = result.scores.at("EM");
  fs::remove(probe_file);
}

}  // namespace

PretrainSummary run_pretrain(const std::string& recipe_path, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  const Recipe r = read_recipe(recipe_path);
  PretrainSummary s;
  s.output_dir = r.output_dir;

  hooks.progress({"corpus"});
  data::KnowledgeOptions ko;
  ko.concepts = r.concepts;
  ko.seed = r.seed;
  const auto facts = data::wordnet_facts(data::WordNet::load(r.wordnet), ko);
  const std::vector<std::string> corpus = make_corpus(r, facts);
  s.documents = static_cast<int64_t>(corpus.size());

  hooks.progress({"tokenizer"});
  fs::create_directories(r.output_dir);
  BpeTrainOptions bo;
  const auto tokenizer = make_tokenizer(r, corpus, bo);
  const int32_t bos = tokenizer->token_to_id(bo.bos_token), eos = tokenizer->token_to_id(bo.eos_token);

  const ModelConfig config = model_config(r, tokenizer->vocab_size(), bos, eos, recipe_path + ": model");
  auto model = init_llama(config, r.seed);
  s.parameters = config.num_parameters();
  const auto docs = encode_documents(corpus, *tokenizer, bos, eos, config.max_position_embeddings);
  for (const auto& d : docs) s.tokens_per_epoch += static_cast<int64_t>(d.ids.size());

  const TrainOutcome trained = pretrain_weights(*model, docs, r, hooks);
  s.status = trained.status;
  s.steps = trained.steps;
  s.final_loss = last_epoch_loss(trained.losses, (s.documents + r.training.batch_size - 1) / r.training.batch_size);

  if (s.status == RunStatus::Finished) {
    save_llama(*model, r.output_dir);
    json::write_file((fs::path(r.output_dir) / "pretrain_recipe.json").string(), r.to_json());
    if (r.probes > 0) {
      hooks.progress({"probing"});
      probe(r, facts, s);
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
