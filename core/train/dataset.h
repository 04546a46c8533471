// Fine-tuning data: JSON lines {"input", "output"} (the official IMSM format;
// a list-valued output trains on its first item) or Alpaca-style
// {"instruction", "input", "output"} (a JSON array or JSON lines), and their
// tokenization exactly as the official loader (torch-free).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace imsm {

class Tokenizer;

struct Example {
  std::string prompt;
  std::string answer;
};

struct DatasetFields {
  std::string input = "input";
  std::string output = "output";
  std::string instruction = "instruction";  // used when present in a record
};

// BadInput naming FILE:LINE (JSON lines) or FILE: record N (JSON array).
std::vector<Example> read_examples(const std::string& path, const DatasetFields& fields = {});

struct EncodedExample {
  std::vector<int32_t> ids;     // prompt (with special tokens) + answer + EOS
  std::vector<int32_t> labels;  // -100 on the prompt, the ids on answer + EOS
  int64_t query_len = 0;        // prompt tokens: the gate's query
};

// Prompt with special tokens truncated to max_input_length; answer without
// special tokens truncated to max_output_length - 1; then EOS.
EncodedExample encode_example(const Tokenizer& tokenizer, const Example& example, int64_t max_input_length,
                              int64_t max_output_length, int32_t eos_id);

}  // namespace imsm
