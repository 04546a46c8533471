#include "io/checkpoint.h"

#include <algorithm>
#include <filesystem>

#include "io/json_file.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {
bool is_pickle_name(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt" || ext == ".pkl";
}
std::string pickle_message() {
  return "pickled PyTorch weights are refused: loading them can run arbitrary code. Convert the checkpoint to "
         "safetensors (e.g. in Python: safetensors.torch.save_file(torch.load(f, weights_only=True), "
         "\"model.safetensors\")) and try again";
}
}  // namespace

void refuse_pickled(const std::string& path) {
  if (is_pickle_name(path) && fs::is_regular_file(path)) throw_bad_input(path, pickle_message());
}

CheckpointWeights CheckpointWeights::open(const std::string& dir_arg) {
  refuse_pickled(dir_arg);
  const fs::path dir(dir_arg);
  if (!fs::is_directory(dir)) throw_bad_input(dir_arg, "not a model folder (expected a directory with config.json and model.safetensors)");
  CheckpointWeights out;
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    out.shards_.push_back(SafetensorsFile::open(single.string()));
  } else if (fs::exists(index)) {
    const json::Json j = json::read_file(index.string());
    const json::Json& map = json::require(j, "weight_map", index.string());
    if (!map.is_object()) throw_bad_input(index.string(), "\"weight_map\" must be an object");
    std::map<std::string, size_t> shard_of_file;
    for (const auto& [name, file] : map.items()) {
      if (!file.is_string()) throw_bad_input(index.string(), "weight_map entry \"" + name + "\" is not a file name");
      const std::string f = file.get<std::string>();
      if (f.find('/') != std::string::npos || f == "..") throw_bad_input(index.string(), "weight_map entry \"" + name + "\" points outside the folder");
      if (!shard_of_file.count(f)) {
        shard_of_file[f] = out.shards_.size();
        out.shards_.push_back(SafetensorsFile::open((dir / f).string()));
      }
      const SafetensorsFile& shard = out.shards_[shard_of_file[f]];
      if (shard.find(name) == nullptr)
        throw_bad_input(shard.path(), "tensor \"" + name + "\" listed in model.safetensors.index.json is not in this shard");
    }
  } else {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (is_pickle_name(entry.path())) throw_bad_input(entry.path().string(), pickle_message());
    }
    throw_bad_input(dir_arg, "no model.safetensors or model.safetensors.index.json in this folder");
  }
  for (size_t s = 0; s < out.shards_.size(); ++s) {
    for (const auto& t : out.shards_[s].tensors()) {
      if (out.tensors_.count(t.name))
        throw_bad_input(out.shards_[s].path(), "tensor \"" + t.name + "\" also appears in " + out.shards_[out.tensors_[t.name].first].path());
      out.tensors_[t.name] = {s, &t};
    }
  }
  return out;
}

const TensorView* CheckpointWeights::find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second.second;
}

std::vector<std::string> CheckpointWeights::names() const {
  std::vector<std::string> out;
  for (const auto& [name, v] : tensors_) out.push_back(name);
  return out;
}

std::string CheckpointWeights::file_of(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? std::string() : shards_[it->second.first].path();
}

}  // namespace imsm
