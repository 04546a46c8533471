// Number facts as text for the pretraining corpus: the equations a base model
// has seen before it is fine-tuned on word problems, in the notation the
// problems' solutions use ("7 + 5 = 12"). A real LLM knows its digits and
// sums before anyone asks it a GSM8K question; without these documents the
// bundled model's digit and operator embeddings (which are also its output
// head, tied) would stay at their random initialisation and LoRA could not
// make it write a number. The facts cover what `arith` problems with
// max_operand ≤ max_addend and up to two steps need:
//   a + b and (a + b) - b for a ≤ max_value, b ≤ max_addend;
//   x * y for 2 ≤ x, y ≤ max_factor;  a * k for a ≤ max_scaled, 2 ≤ k ≤ 4.
// Each document is a "# Number facts" heading and facts_per_document facts in
// a shuffled order (so a fact is learned from its operands, not from the
// line before it). Deterministic for a seed. Torch-free.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm::data {

struct NumeracyOptions {
  int64_t max_value = 100;
  int64_t max_addend = 10;
  int64_t max_factor = 9;
  int64_t max_scaled = 50;
  int64_t facts_per_document = 8;
  uint64_t seed = 1;
};

// Every fact once, as "a op b = c" lines (unshuffled, for tests).
std::vector<std::string> numeracy_facts(const NumeracyOptions& options);
// The facts, shuffled with the seed, grouped into documents.
std::vector<std::string> numeracy_corpus(const NumeracyOptions& options);

}  // namespace imsm::data
