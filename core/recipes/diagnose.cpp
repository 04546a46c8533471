#include "recipes/diagnose.h"

#include <filesystem>

#include "peft/intruders.h"
#include "config/train_config.h"
#include "imsm/gate.h"
#include "model/llama.h"
#include "peft/adapter.h"
#include "recipes/export.h"
#include "recipes/loaded_model.h"
#include "recipes/train.h"
#include "tokenizer/tokenizer.h"
#include "train/gate_by_token.h"
#include "train/kl_to_base.h"
#include "util/error.h"

namespace imsm {

namespace {

void check_request(const IntruderRequest& r) {
  if (r.adapter_dir.empty()) throw_bad_input("--adapter", "give the adapter folder to examine");
  if (r.top_k < 1) throw_bad_input("--top-k", "must be at least 1");
  if (!(r.threshold > 0 && r.threshold < 1)) throw_bad_input("--threshold", "a |cosine| in (0, 1), e.g. 0.5");
  if (!(r.alpha >= 0 && r.alpha <= 1)) throw_bad_input("--alpha", "in [0, 1]: the share of the adapter's change mixed in");
}

// "model.layers.3.self_attn.q_proj" -> 3, "q_proj".
IntruderModule named(const std::string& module) {
  IntruderModule m;
  m.module = module;
  const std::string prefix = "model.layers.";
  if (module.rfind(prefix, 0) == 0) m.layer = std::stoll(module.substr(prefix.size()));
  m.projection = module.substr(module.rfind('.') + 1);
  return m;
}

// The layer's weight with its adapter folded in (a copy), mixed in at α: W + α (W' - W).
torch::Tensor tuned_weight(const Linear& linear, const PeftAdapter& adapter, double alpha) {
  Linear merged(linear.name, linear.weight.clone(), linear.bias.defined() ? linear.bias.clone() : torch::Tensor());
  adapter.merge_into(merged);
  return alpha == 1.0 ? merged.weight : linear.weight + alpha * (merged.weight - linear.weight);  // [out, in]
}

}  // namespace

IntruderReport intruder_dimensions(const IntruderRequest& r, const Hooks& hooks) {
  check_request(r);
  IntruderReport report;
  report.adapter_dir = r.adapter_dir;
  report.model_dir = adapter_base_model(r.adapter_dir, r.model_dir);
  report.method = summarize_adapter(r.adapter_dir).method;
  report.alpha = r.alpha;
  report.top_k = r.top_k;
  report.threshold = r.threshold;
  ModelSource source;
  source.model_dir = report.model_dir;
  source.adapter_dir = r.adapter_dir;
  source.dtype = Precision::F32;  // the decompositions in fp32, as PEFT's
  hooks.progress({"loading", 0, 1});
  const auto loaded = load_model(source, TokenizerNeed::IfPresent);
  std::vector<std::pair<std::string, Linear*>> adapted;
  for (const auto& [name, linear] : loaded->model->linears())
    if (dynamic_cast<const PeftAdapter*>(linear->adapter.get())) adapted.emplace_back(name, linear);
  if (adapted.empty()) throw_bad_input(r.adapter_dir, "adapts no linear layer of " + report.model_dir);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < adapted.size(); ++i) {
    hooks.check_abort("diagnosis cancelled");
    hooks.progress({"decomposing", static_cast<int64_t>(i), static_cast<int64_t>(adapted.size()), adapted[i].first});
    const Linear& linear = *adapted[i].second;
    const auto& adapter = dynamic_cast<const PeftAdapter&>(*linear.adapter);
    const IntruderCount c = count_intruders(linear.weight, tuned_weight(linear, adapter, r.alpha), {r.top_k, r.threshold});
    IntruderModule m = named(adapted[i].first);
    m.intruders = c.intruders;
    m.top_k = c.top_k;
    m.least_similarity = c.least_similarity;
    report.total += c.intruders;
    report.modules.push_back(m);
  }
  std::stable_sort(report.modules.begin(), report.modules.end(), [](const auto& a, const auto& b) { return a.layer < b.layer; });
  hooks.progress({"decomposing", static_cast<int64_t>(adapted.size()), static_cast<int64_t>(adapted.size())});
  return report;
}

namespace {

// A task's rows as a run reads them, with the adapter loaded in fp32 over its base.
struct TaskRows {
  std::unique_ptr<LoadedModel> loaded;
  std::vector<EncodedExample> rows;
  std::string model_dir, method;
};

// need_gate: BadInput naming --adapter, before anything loads, when it is not an IMSM adapter with a gate.
TaskRows open_task_rows(const KlRequest& r, bool need_gate, const Hooks& hooks) {
  if (r.adapter_dir.empty()) throw_bad_input("--adapter", "give the adapter folder to examine");
  if (r.data_path.empty()) throw_bad_input("--data", "give the task's rows (the training file)");
  if (r.limit < 0) throw_bad_input("--limit", "must be 0 (all) or positive");
  if (r.batch_size < 1) throw_bad_input("--batch-size", "must be at least 1");
  TaskRows t;
  t.model_dir = adapter_base_model(r.adapter_dir, r.model_dir);
  const AdapterSummary adapter = summarize_adapter(r.adapter_dir);
  t.method = adapter.method;
  if (need_gate && !adapter.mixes_streams)
    throw_bad_input("--adapter", r.adapter_dir + " is a " + t.method + " adapter: it has no IMSM gate to summarise (train with a variant)");
  ModelSource source;
  source.model_dir = t.model_dir;
  source.adapter_dir = r.adapter_dir;
  source.dtype = Precision::F32;
  hooks.progress({"loading", 0, 1});
  t.loaded = load_model(source, TokenizerNeed::Required);
  TrainConfig reading;  // the rows as a run reads them
  reading.model_path = t.model_dir;
  reading.chat_template = r.chat_template;
  reading.max_input_length = r.max_input_length;
  reading.max_output_length = r.max_output_length;
  const ExampleEncoding encoding = example_encoding(reading, *t.loaded->tokenizer, t.loaded->model->config());
  t.rows = encode_training_file(r.data_path, reading, *t.loaded->tokenizer, encoding, r.limit);
  return t;
}

// The kinds of a row's tokens, each decoded alone.
std::vector<TokenKind> token_kinds(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  std::vector<TokenPiece> pieces;
  for (const int32_t id : ids) {
    const std::string text = tokenizer.decode({id}, false);
    pieces.push_back({text, !text.empty() && tokenizer.decode({id}, true).empty()});
  }
  return classify_tokens(pieces);
}

}  // namespace

KlReport diagnose_kl(const KlRequest& r, const Hooks& hooks) {
  const TaskRows t = open_task_rows(r, false, hooks);
  const KlToBase kl = kl_to_base(*t.loaded->model, t.loaded->gate.get(), t.rows, r.batch_size, hooks);
  KlReport report;
  report.adapter_dir = r.adapter_dir;
  report.data_path = r.data_path;
  report.model_dir = t.model_dir;
  report.method = t.method;
  report.mean = kl.mean;
  report.std_error = kl.std_error;
  report.tokens = kl.tokens;
  report.examples = kl.examples;
  return report;
}

GateSummary diagnose_gate(const KlRequest& r, bool keep_rows, const Hooks& hooks) {
  const TaskRows t = open_task_rows(r, true, hooks);
  if (!t.loaded->gate) throw_bad_input("--adapter", r.adapter_dir + ": the IMSM adapter's gate did not load");
  const std::vector<std::vector<float>> gates = gate_by_token(*t.loaded->model, *t.loaded->gate, t.rows, r.batch_size, hooks);
  GateSummary s;
  s.model_dir = t.model_dir, s.adapter_dir = r.adapter_dir, s.method = t.method, s.data_path = r.data_path;
  std::vector<TokenValues> values;
  double sum = 0;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    const EncodedExample& row = t.rows[i];
    GateRowTokens tokens{row.ids, gates[i], token_kinds(*t.loaded->tokenizer, row.ids), row.query_len};
    TokenValues v;
    for (size_t p = 0; p + 1 < row.ids.size(); ++p) {  // position p predicts token p + 1
      v.kinds.push_back(tokens.kinds[p + 1]);
      v.answer.push_back(row.labels[p + 1] != -100);
      v.values.push_back(tokens.gate[p]);
      sum += tokens.gate[p];
    }
    s.tokens += static_cast<int64_t>(v.values.size());
    values.push_back(std::move(v));
    if (keep_rows) s.rows.push_back(std::move(tokens));
  }
  s.examples = static_cast<int64_t>(t.rows.size());
  s.mean = s.tokens > 0 ? sum / static_cast<double>(s.tokens) : 0;
  s.kinds = tally_by_kind(values);
  return s;
}

}  // namespace imsm
