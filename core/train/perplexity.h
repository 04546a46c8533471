// Perplexity of a dataset's answers: exp of the mean negative log-likelihood
// of the answer tokens (and EOS) given the prompt, over all answer tokens of
// the set. With an IMSM gate the logits are those of the mixed memory, as in
// training; with a PEFT adapter alone, the tuned model's.
#pragma once
#include <cstdint>
#include <vector>

#include "imsm/gate.h"
#include "model/llama.h"
#include "train/dataset.h"
#include "util/run_protocol.h"

namespace imsm {

struct PerplexityResult {
  double perplexity = 0;
  double mean_nll = 0;  // nats per answer token
  int64_t tokens = 0;   // answer tokens scored
};

// Eval mode (no dropout), no autograd, batches of `batch_size` padded rows;
// gate null: the model (with its PEFT adapter, if any) alone. Progress
// "perplexity" (examples done of total) after each batch; cancel between batches.
PerplexityResult answer_perplexity(const LlamaModel& model, const ImsmGate* gate, const std::vector<EncodedExample>& data,
                                   int64_t batch_size, const Hooks& hooks = {});

}  // namespace imsm
