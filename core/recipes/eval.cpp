#include "recipes/eval.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "dist/launch.h"
#include "dist/process_group.h"
#include "eval/metrics.h"
#include "train/perplexity.h"
#include "imsm/gate.h"
#include "imsm/imsm_generate.h"
#include "io/json_file.h"
#include "model/llama.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

using EvalSet = std::vector<std::pair<std::string, nlohmann::json>>;  // each record's input and gold(s)

// The dataset with its golds as lists (the predictions file keeps "output" as given).
EvalSet read_eval_set(const std::string& path, int64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_bad_input(path, "cannot open dataset file");
  std::vector<std::pair<std::string, nlohmann::json>> out;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = json::parse(line, path, n);
    const std::string where = path + ":" + std::to_string(n);
    const std::string input = json::get_string(j, "input", where);
    const auto& gold = json::require(j, "output", where);
    if (!gold.is_string() && !(gold.is_array() && !gold.empty())) throw_bad_input(where, "field \"output\" must be a string or a list of strings");
    out.emplace_back(input, gold);
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
  }
  if (out.empty()) throw_bad_input(path, "the dataset holds no records");
  return out;
}

// One answered example: its golds as a list, the answer's text and tokens
// with the gate each was mixed with (mean, and the full vector when kept).
EvalExample example_of(const std::pair<std::string, nlohmann::json>& record, const Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                       const std::vector<float>& gate_means, const std::vector<std::vector<float>>& full_gates) {
  EvalExample e;
  e.input = record.first;
  const nlohmann::json& gold = record.second;
  if (gold.is_string()) e.golds = {gold.get<std::string>()};
  else for (const auto& g : gold) e.golds.push_back(g.get<std::string>());
  e.answer = tokenizer.decode(ids, true);
  for (size_t t = 0; t < ids.size(); ++t) {
    TokenTrace trace;
    trace.id = ids[t];
    trace.piece = tokenizer.piece(trace.id);
    if (!gate_means.empty()) trace.gate_mean = gate_means[t];
    if (!full_gates.empty()) trace.gate = full_gates[t];
    e.tokens.push_back(std::move(trace));
  }
  return e;
}

// The official predictions file: {"input", "output" (as given), "answer"} per line.
void write_predictions(const std::string& path, const std::vector<std::pair<std::string, nlohmann::json>>& data, const EvalResult& result) {
  std::string lines;
  for (size_t i = 0; i < data.size(); ++i)
    lines += nlohmann::json{{"input", data[i].first}, {"output", data[i].second}, {"answer", result.examples[i].answer}}
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
             "\n";
  json::write_text_atomically(path, lines);
}
// What generation gave one example: its tokens, their mean gate and full gates (when kept).
struct Generated {
  std::vector<int32_t> ids;
  std::vector<float> gate_mean;
  std::vector<std::vector<float>> full;
};

// Every rank's generations onto every rank: each sends the examples it answered.
void gather_generated(dist::ProcessGroup& group, const std::vector<bool>& mine, std::vector<Generated>& all) {
  nlohmann::json sent = nlohmann::json::array();
  for (size_t i = 0; i < all.size(); ++i)
    if (mine[i]) sent.push_back({i, all[i].ids, all[i].gate_mean, all[i].full});
  for (const std::string& bytes : group.all_gather(sent.dump()))
    for (const auto& e : nlohmann::json::parse(bytes)) {
      Generated& g = all.at(e[0].get<size_t>());
      g.ids = e[1].get<std::vector<int32_t>>();
      g.gate_mean = e[2].get<std::vector<float>>();
      g.full = e[3].get<std::vector<std::vector<float>>>();
    }
}

// evaluate_model on the set `data` as read_eval_set gives it.
EvalResult evaluate_set(const LlamaModel& model, const Tokenizer& tokenizer, const ImsmGate* gate, const EvalRequest& r, const EvalSet& data,
                        dist::ProcessGroup* group, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  GenerateOptions options;  // greedy, as the paper
  options.max_new_tokens = r.max_new_tokens;
  options.eos_ids = stop_ids(model.config(), tokenizer.eos_ids());

  // Prompts sorted by length so that batches carry little padding.
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& [input, gold] : data) {
    auto ids = tokenizer.encode(input, true);
    if (static_cast<int64_t>(ids.size()) > r.max_input_length) ids.resize(static_cast<size_t>(r.max_input_length));
    prompts.push_back(std::move(ids));
  }
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prompts[a].size() < prompts[b].size(); });

  std::vector<Generated> answers(data.size());
  std::vector<bool> mine(data.size(), false);
  double generation_seconds = 0;
  // Rounds of one batch per rank (batch k on rank k % ranks); the ranks vote on stopping at each round.
  const size_t ranks = group ? static_cast<size_t>(group->size()) : 1, batch_size = static_cast<size_t>(r.batch_size);
  for (size_t round = 0; round * ranks * batch_size < order.size(); ++round) {
    if (dist::any_rank_aborted(group, hooks)) throw Error(ErrorKind::Cancelled, "evaluation cancelled");
    const size_t start = (round * ranks + (group ? static_cast<size_t>(group->rank()) : 0)) * batch_size;
    if (start >= order.size()) continue;
    const size_t end = std::min(order.size(), start + batch_size);
    std::vector<std::vector<int32_t>> batch;  // this rank's batch of the round
    for (size_t i = start; i < end; ++i) batch.push_back(prompts[order[i]]);
    const std::unique_ptr<DecodeStep> step = make_decode_step(model, gate, true);
    auto* imsm_step = dynamic_cast<ImsmStep*>(step.get());  // null without a gate
    std::vector<std::vector<std::vector<float>>> full(batch.size());  // [row][token][d]
    TokenSink keep_gate;
    if (imsm_step && r.full_gate)
      keep_gate = [&](int64_t row, int32_t) {
        const torch::Tensor g = imsm_step->last_gate()[row].contiguous();
        full[row].emplace_back(g.data_ptr<float>(), g.data_ptr<float>() + g.numel());
      };
    const auto t0 = std::chrono::steady_clock::now();
    const GenerateOutput out = generate(*step, batch, options, {}, keep_gate);
    generation_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (size_t b = 0; b < batch.size(); ++b) {
      answers[order[start + b]] = {out.tokens[b], out.gate_mean[b], std::move(full[b])};
      mine[order[start + b]] = true;
    }
    hooks.progress({"evaluating", static_cast<int64_t>(end), static_cast<int64_t>(order.size())});
  }
  if (group) gather_generated(*group, mine, answers);

  EvalResult result;
  int64_t generated_here = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    result.examples.push_back(example_of(data[i], tokenizer, answers[i].ids, answers[i].gate_mean, answers[i].full));
    if (mine[i]) generated_here += static_cast<int64_t>(answers[i].ids.size());
  }

  std::vector<ScoredExample> scored;
  for (const auto& e : result.examples) scored.push_back({e.answer, e.golds});
  result.scores = score_task(r.task, scored);
  if (r.perplexity) {
    int32_t eos = options.eos_ids.empty() ? -1 : static_cast<int32_t>(options.eos_ids.front());
    std::vector<EncodedExample> encoded;
    for (const auto& e : result.examples)
      encoded.push_back(encode_example(tokenizer, {e.input, e.golds.front()}, r.max_input_length, r.max_new_tokens + 1, eos));
    result.scores["Perplexity"] = answer_perplexity(model, gate, encoded, r.batch_size, hooks).perplexity;
  }
  // This rank's generation speed, times the ranks: the run's, when they run alike.
  result.tokens_per_second = generation_seconds > 0 ? generated_here / generation_seconds * (group ? group->size() : 1) : 0;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace

EvalRequest for_benchmark(EvalRequest r, const Benchmark& b) {
  r.dataset = b.dataset;
  r.task = b.task;
  r.max_new_tokens = b.max_new_tokens;
  r.max_input_length = b.max_input_length;
  r.limit = b.limit;
  r.perplexity = b.metric == "Perplexity";
  return r;
}

EvalResult run_eval(const EvalRequest& r, const Hooks& hooks) {
  const auto started = std::chrono::steady_clock::now();
  official_metrics(r.task);  // an unknown task fails before any work
  if (r.batch_size <= 0 || r.max_new_tokens <= 0 || r.max_input_length <= 0)
    throw_bad_input("eval", "batch size, max new tokens and max input length must be positive");
  const auto data = read_eval_set(r.dataset, r.limit);  // a bad file fails before the model loads

  // Started by torchrun: the batches are dealt round the ranks, every rank gets every answer, rank 0 writes.
  const dist::Launch launch = dist::launch_from_environment();
  const auto loaded = load_model(on_this_process(r.source));
  const auto group = launch.distributed() ? dist::ProcessGroup::join(launch, loaded->model->device(), dist::collective_timeout()) : nullptr;
  EvalRequest here = r;
  here.perplexity = r.perplexity && launch.writer();  // only the writer reports it
  EvalResult result = evaluate_set(*loaded->model, *loaded->tokenizer, loaded->gate.get(), here, data, group.get(), hooks);
  if (!r.predictions_out.empty() && launch.writer()) write_predictions(r.predictions_out, data, result);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

EvalResult evaluate_model(const LlamaModel& model, const Tokenizer& tokenizer, const ImsmGate* gate, const EvalRequest& r,
                          dist::ProcessGroup* group, const Hooks& hooks) {
  official_metrics(r.task);  // an unknown task fails before the file is read
  return evaluate_set(model, tokenizer, gate, r, read_eval_set(r.dataset, r.limit), group, hooks);
}

}  // namespace imsm
