// Test helper: trains a byte-level BPE on a corpus (JSON lines {"text"}) with
// this project's trainer and writes tokenizer.json + tokenizer_config.json, for
// the parity test against Hugging Face's tokenizer.
// Usage: write_trained_tokenizer CORPUS.jsonl OUT_DIR VOCAB_SIZE
#include <filesystem>
#include <fstream>
#include <iostream>

#include "io/json_file.h"
#include "tokenizer/bpe_trainer.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: write_trained_tokenizer CORPUS.jsonl OUT_DIR VOCAB_SIZE\n";
    return 2;
  }
  try {
    std::ifstream in(argv[1]);
    std::vector<std::string> texts;
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n)
      if (!line.empty()) texts.push_back(imsm::json::parse(line, argv[1], n).at("text").get<std::string>());
    imsm::BpeTrainOptions o;
    o.vocab_size = std::stoll(argv[3]);
    const auto model = imsm::train_bpe(texts, o);
    std::filesystem::create_directories(argv[2]);
    imsm::json::write_text_atomically(std::string(argv[2]) + "/tokenizer.json", imsm::tokenizer_json(model, o).dump());
    imsm::json::write_text_atomically(std::string(argv[2]) + "/tokenizer_config.json", imsm::tokenizer_config_json(o).dump(2));
    std::cout << model.vocab.size() << " tokens, " << model.merges.size() << " merges\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
