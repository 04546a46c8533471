// export_gguf.h in a build without llama.cpp (-DIMSM_WITH_GGUF=OFF).
#include "recipes/export_gguf.h"

#include "util/error.h"

namespace imsm {

std::string gguf_quant_list() { return ""; }

std::string gguf_lora_refusal(const std::string&) { return ""; }

void check_gguf_request(const ExportRequest&) {
  throw_bad_input("--format gguf", "this build has no GGUF support (configured with -DIMSM_WITH_GGUF=OFF); run installer/setup-llama-cpp.sh and build again");
}

GgufModelCheck check_gguf_model(const ExportRequest& request, const std::string&) {
  check_gguf_request(request);
  return {};
}

GgufExportFiles write_gguf_export(const ExportRequest& request, const GgufModelCheck&, LoadedModel&, const std::string&, const std::string&, const std::string&,
                                  const Hooks&) {
  check_gguf_request(request);
  return {};
}

GgufExportFiles write_gguf_lora_export(const ExportRequest& request, const std::string&, const std::string&, const Hooks&) {
  check_gguf_request(request);
  return {};
}

}  // namespace imsm
