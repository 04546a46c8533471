// Perplexity of a dataset's answers: exp of the mean negative log-likelihood
// of the answer tokens (and EOS) given the prompt, over all answer tokens of
// the set. With an IMSM gate the logits are those of the mixed memory, as in
// training; with a PEFT adapter alone, the tuned model's.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "imsm/gate.h"
#include "model/llama.h"
#include "train/dataset.h"

namespace imsm {

struct PerplexityResult {
  double perplexity = 0;
  double mean_nll = 0;  // nats per answer token
  int64_t tokens = 0;   // answer tokens scored
};

// Eval mode (no dropout), no autograd, batches of `batch_size` padded rows.
// on_batch(done, total) after each batch; should_abort() true: ErrorKind::Cancelled.
PerplexityResult answer_perplexity(const LlamaModel& model, const ImsmGate* gate, GateVariant variant,
                                   const std::vector<EncodedExample>& data, int64_t batch_size,
                                   const std::function<void(int64_t, int64_t)>& on_batch = {},
                                   const std::function<bool()>& should_abort = {});

}  // namespace imsm
