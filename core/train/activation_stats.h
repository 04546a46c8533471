// llama.cpp's importance matrix (llama-imatrix), computed by the engine: for
// every weight a matmul multiplies, the mean over the calibration tokens of
// the square of each of its input columns. Quantizers that take it (the
// K-quants, q5_0, ...; ggml_quantize_chunk's imatrix) spend their precision on
// the columns the data drives hardest, which keeps a q4_k_m of a small model
// near its f16 (docs/PERFORMANCE.md). Padding tokens are not counted.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "train/dataset.h"
#include "util/run_protocol.h"

namespace imsm {

class LlamaModel;

struct ImportanceMatrix {
  // Hugging Face weight name -> [in] sums of squares over the tokens: every
  // linear's "model.layers.0.self_attn.q_proj.weight", and the LM head's
  // (under "model.embed_tokens.weight" when the head is the tied embedding,
  // which is what llama.cpp's output matmul multiplies then; else
  // "lm_head.weight"). Stored as llama-imatrix stores them (in_sum2, fp32).
  std::map<std::string, std::vector<float>> sum_square;
  int64_t rows = 0, tokens = 0;
};

// What a quantizer takes: each sum divided by the token count, in fp32 as
// llama-quantize divides the sums of an imatrix file (so that the file and
// the export quantize alike, bit for bit).
std::map<std::string, std::vector<float>> importance_means(const ImportanceMatrix& matrix);

// Runs `rows` (each a sequence of its own; only their ids are read) through
// the model in batches of batch_size, right-padded as training pads them
// (collate), and measures the model as it is: adapters it carries compute as
// before. Progress ("calibrate", rows done, rows); cancelled between batches
// by the hooks.
ImportanceMatrix importance_matrix(LlamaModel& model, const std::vector<EncodedExample>& rows, int64_t batch_size,
                                   const Hooks& hooks);

}  // namespace imsm
