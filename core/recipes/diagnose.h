// Recipe: diagnostics of what a tuning did to its base model (issue 36).
//  - Intruder dimensions per adapted weight matrix (peft/intruders.h): the
//    adapter merged into each weight (or mixed in at α, WiSE-FT's way)
//    against the base weight.
//  - KL(base ‖ tuned) on the task's own rows (train/kl_to_base.h).
//  - IMSM's gate on those rows, by part (prompt, answer) and token kind
//    (train/gate_by_token.h, eval/token_kind.h). IMSM has one gate, on the
//    last layer's memory: a summary per layer has nothing to show for it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eval/token_kind.h"
#include "util/run_protocol.h"

namespace imsm {

struct IntruderRequest {
  std::string adapter_dir;   // a PEFT adapter or an IMSM adapter (its tuned stream's)
  std::string model_dir;     // "": the adapter's base_model_name_or_path
  double alpha = 1.0;        // the weight W + α ΔW; 1: the adapter as trained
  int64_t top_k = 10;        // PEFT's reduce_intruder_dimension defaults
  double threshold = 0.5;
};

struct IntruderModule {
  std::string module;        // "model.layers.3.self_attn.q_proj"
  int64_t layer = 0;
  std::string projection;    // "q_proj"
  int64_t intruders = 0;     // of the top_k
  int64_t top_k = 0;
  double least_similarity = 1;  // the smallest best |cos| among them
};

struct IntruderReport {
  std::string model_dir, adapter_dir, method;  // method: "LoRA", "IMSM(LoRA)", ...
  double alpha = 1;
  int64_t top_k = 0;
  double threshold = 0;
  std::vector<IntruderModule> modules;  // by layer, then the model's module order
  int64_t total = 0;
};

// BadInput naming the flag or file when the request does not hold.
IntruderReport intruder_dimensions(const IntruderRequest& request, const Hooks& hooks = {});

// The rows of a task as a run reads them, and the adapter examined on them.
struct KlRequest {
  std::string adapter_dir;
  std::string model_dir;                 // "": the adapter's base_model_name_or_path
  std::string data_path;                 // training-format rows: the task's own data
  int64_t limit = 256;                   // its first rows (0: all)
  int64_t batch_size = 8;
  std::string chat_template = "auto";    // as a run's "chat_template": auto, on, off or a file
  int64_t max_input_length = 512, max_output_length = 128;
};

struct KlReport {
  std::string model_dir, adapter_dir, method, data_path;
  double mean = 0;       // nats per answer token
  double std_error = 0;  // over the examples
  int64_t tokens = 0, examples = 0;
};

KlReport diagnose_kl(const KlRequest& request, const Hooks& hooks = {});

struct GateRowTokens {
  std::vector<int32_t> ids;      // the row's tokens
  std::vector<float> gate;       // [ids.size() − 1]: the gate predicting ids[t + 1]
  std::vector<TokenKind> kinds;  // [ids.size()]
  int64_t query_len = 0;         // prompt tokens
};

struct GateSummary {
  std::string model_dir, adapter_dir, method, data_path;
  double mean = 0;               // over every predicted token
  int64_t tokens = 0, examples = 0;
  std::vector<KindTally> kinds;  // each token as the kind of the token its position predicts
  std::vector<GateRowTokens> rows;  // with keep_rows
};

// BadInput naming --adapter when it is not an IMSM adapter with a gate.
GateSummary diagnose_gate(const KlRequest& request, bool keep_rows, const Hooks& hooks = {});

}  // namespace imsm
