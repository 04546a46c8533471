// A Hugging Face checkpoint folder's weights: model.safetensors, or shards
// listed by model.safetensors.index.json. Pickled weights are refused.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace imsm {

class CheckpointWeights {
 public:
  // `dir` is a model folder. Throws BadInput naming the file and the problem.
  static CheckpointWeights open(const std::string& dir);
  CheckpointWeights() = default;
  CheckpointWeights(CheckpointWeights&&) = default;             // views stay valid: they live
  CheckpointWeights& operator=(CheckpointWeights&&) = default;  // in the shards' heap storage
  CheckpointWeights(const CheckpointWeights&) = delete;
  CheckpointWeights& operator=(const CheckpointWeights&) = delete;

  const TensorView* find(const std::string& name) const;
  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  const std::vector<SafetensorsFile>& shards() const { return shards_; }
  // Where a tensor lives, for messages ("model-00002-of-00003.safetensors").
  std::string file_of(const std::string& name) const;

 private:
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, std::pair<size_t, const TensorView*>> tensors_;
};

// Throws BadInput when `path` is, or `dir` holds only, pickled weights
// (*.bin, *.pt, *.pth, *.ckpt): loading them can run arbitrary code.
void refuse_pickled(const std::string& path);

}  // namespace imsm
