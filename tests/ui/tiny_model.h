// The workbench tests' model and data: a one-layer Llama (hidden size 32) made
// by the engine's create-model recipe with the bundled model's tokenizer, and
// eight "What is i plus 1?" records — enough to train, evaluate and show in
// seconds.
#pragma once
#include <QDir>
#include <QString>

#include <fstream>
#include <string>

#include "recipes/create_model.h"

namespace imsm::test {

inline void write(const QString& path, const std::string& text) {
  std::ofstream out(path.toStdString(), std::ios::binary);
  out << text;
}

// Writes the model into DIR/tiny and the records into DIR/train.jsonl; returns {model folder, data file}.
inline std::pair<QString, QString> make_tiny_model_and_data(const QDir& dir) {
  const QString model = dir.filePath("tiny"), data = dir.filePath("train.jsonl");
  CreateModelRequest r;
  r.out_dir = model.toStdString();
  r.tokenizer = IMSM_SOURCE_DIR "/resources/models/wordnet-base";
  r.hidden_size = 32;
  r.intermediate_size = 64;
  r.num_layers = 1;
  r.num_heads = 2;
  r.num_kv_heads = 1;
  r.max_positions = 128;
  r.seed = 1;
  create_model(r);
  std::string lines;
  for (int i = 0; i < 8; ++i)
    lines += "{\"input\": \"What is " + std::to_string(i) + " plus 1?\", \"output\": \"" + std::to_string(i + 1) + "\"}\n";
  write(data, lines);
  return {model, data};
}

}  // namespace imsm::test
