// Recipe: evaluate a model (optionally with a PEFT or IMSM adapter) on one
// dataset: batched greedy generation, a predictions file in the official
// format, per-token gate traces, and the task's official metrics.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "eval/suite.h"
#include "eval/token_trace.h"
#include "imsm/gate_config.h"  // check_mix_alphas, mix_alpha_text
#include "recipes/chat_format.h"
#include "recipes/loaded_model.h"
#include "util/run_protocol.h"

namespace imsm {

struct EvalRequest {
  ModelSource source;              // adapter_dir "" = the base model
  std::string dataset;             // JSON lines {"input", "output"} (output: a string or a list of golds)
  std::string task;                // gsm8k, mrpc, multirc, cola, ropes, webq, freebase
  std::string predictions_out;     // "" = do not write
  int64_t max_input_length = 512;  // prompt tokens kept (the official loader's truncation)
  int64_t max_new_tokens = 64;     // the max target length
  int64_t batch_size = 8;
  int64_t limit = 0;               // 0 = every example
  bool full_gate = false;          // keep each token's whole gate vector (IMSM)
  bool perplexity = false;         // also the perplexity of the golds (first gold) given the input: scores["Perplexity"]
  // The prompts as user turns of the model's chat (recipes/chat_format.h): chat.key "auto" (on when the model has a
  // template), "on", "off" or a template file; run_eval resolves it, evaluate_model takes it as resolved.
  ChatFormat chat;
  // Non-empty: evaluate the adapter along these fixed mixes h = α·h_M + (1 − α)·h_M' (its own gate unused; 0: the
  // tuned model, 1: the original), all in one pass over the data (run_eval_mixes).
  std::vector<double> mix_alphas;
};

struct EvalExample {
  std::string input;
  std::vector<std::string> golds;
  std::string answer;
  std::vector<TokenTrace> tokens;
};

struct EvalResult {
  std::vector<EvalExample> examples;
  std::map<std::string, double> scores;  // official names (+ Accuracy where defined)
  double seconds = 0;
  double tokens_per_second = 0;
};

EvalResult run_eval(const EvalRequest& request, const Hooks& hooks = {});
// One result per α of request.mix_alphas (one, as run_eval, when it is empty);
// predictions to predictions_path(request, k).
std::vector<EvalResult> run_eval_mixes(const EvalRequest& request, const Hooks& hooks = {});
// Where mix k's predictions go: predictions_out, with ".alphaA" before its extension along α.
std::string predictions_path(const EvalRequest& request, size_t mix);

// `request` pointed at a suite's benchmark: its file, task, lengths, limit,
// and the perplexity when that is the benchmark's metric.
EvalRequest for_benchmark(EvalRequest request, const Benchmark& benchmark);

namespace dist {
class ProcessGroup;
}
class LlamaModel;
class Tokenizer;
class ImsmGate;

// What run_eval does once the model is loaded, on a model already in memory
// (training's evaluations use it, dropout off): the generation, the metrics
// and, when request.perplexity, the answers' perplexity (every caller
// computes it). `source` and `predictions_out` are not read. With a group
// every rank calls it and gets every answer. gate null: the model alone.
EvalResult evaluate_model(const LlamaModel& model, const Tokenizer& tokenizer, const ImsmGate* gate, const EvalRequest& request,
                          dist::ProcessGroup* group, const Hooks& hooks = {});

}  // namespace imsm
