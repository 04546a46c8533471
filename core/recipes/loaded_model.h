// What the generate and eval recipes run on: a model folder, optionally an
// adapter (PEFT, or IMSM with its gate), its tokenizer, on one device in one
// dtype — loaded once and kept, so that a window can generate many times
// without reading the checkpoint again.
#pragma once
#include <memory>
#include <string>

#include "config/model_source.h"

namespace imsm {

class ImsmGate;
class LlamaModel;
class PeftAdapters;
class Tokenizer;

struct LoadedModel {
  ModelSource source;
  std::unique_ptr<LlamaModel> model;
  std::unique_ptr<PeftAdapters> adapters;  // null without adapter_dir
  std::unique_ptr<ImsmGate> gate;          // an IMSM adapter's gate; null otherwise (and for the variant none)
  std::unique_ptr<Tokenizer> tokenizer;    // null only when the folder has none and none was required
  ~LoadedModel();
};

enum class TokenizerNeed { Required, IfPresent };

// Started by torchrun on CUDA, each process runs on the GPU of its LOCAL_RANK:
// "cuda" or "cuda:N" becomes "cuda:LOCAL_RANK"; anything else stays.
ModelSource on_this_process(ModelSource source);

// `source` as it can run on this machine: a CUDA device that is not visible
// (a run trained on a GPU server, inspected on a laptop) becomes the CPU in
// its default dtype, and `note` says so; otherwise `source` unchanged.
ModelSource runnable_here(const ModelSource& source, std::string* note);

// The base model of an adapter: `model_dir` when given, else the adapter's
// base_model_name_or_path; BadInput naming the flag or adapter_config.json
// when neither is a folder with a config.json.
std::string adapter_base_model(const std::string& adapter_dir, const std::string& model_dir);

// BadInput naming the folder or file when something does not load.
std::unique_ptr<LoadedModel> load_model(const ModelSource& source, TokenizerNeed tokenizer = TokenizerNeed::Required);

}  // namespace imsm
