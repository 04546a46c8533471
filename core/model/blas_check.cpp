#include "model/blas_check.h"

#include <torch/torch.h>

#include <fstream>

namespace imsm {

std::string blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::string line, reference;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("openblas") != std::string::npos) return "openblas (" + path + ")";
    if (path.find("libmkl") != std::string::npos) return "mkl (" + path + ")";
    if (path.find("blis") != std::string::npos) return "blis (" + path + ")";
    if (path.find("/blas/libblas") != std::string::npos) reference = path;
  }
  if (!reference.empty()) return "reference (" + reference + ")";
  const std::string config = torch::show_config();
  if (config.find("BLAS_INFO=mkl") != std::string::npos) return "mkl (static in LibTorch)";
  return "unknown";
}

std::string blas_warning() {
  const std::string lib = blas_library();
  if (lib.rfind("reference", 0) != 0) return "";
  return "LibTorch is using the reference BLAS " + lib.substr(10) +
         ", which is about 15x slower: install OpenBLAS (apt-get install libopenblas0-pthread)";
}

}  // namespace imsm
