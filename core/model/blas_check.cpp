#include "model/blas_check.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <torch/torch.h>

namespace imsm {

namespace {
// The PyPI wheel links MKL into libtorch_cpu itself.
bool torch_has_mkl_inside() { return torch::show_config().find("BLAS_INFO=mkl") != std::string::npos; }
}  // namespace

std::string blas_library() {
  // The library that actually provides sgemm_ to this process (several BLAS
  // libraries can be mapped at once: e.g. OpenBLAS through LAPACK, the
  // reference BLAS through libblas.so.3).
  void* sgemm = ::dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info info{};
  if (sgemm != nullptr && ::dladdr(sgemm, &info) != 0 && info.dli_fname != nullptr) {
    // Resolve symlinks: libblas.so.3 is a Debian alternative pointing at the real one.
    char resolved[4096];
    const std::string path = ::realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
    if (path.find("openblas") != std::string::npos) return "openblas (" + path + ")";
    if (path.find("mkl") != std::string::npos) return "mkl (" + path + ")";
    if (path.find("blis") != std::string::npos) return "blis (" + path + ")";
    if (path.find("/blas/") != std::string::npos || path.find("libblas") != std::string::npos) return "reference (" + path + ")";
    if (path.find("libtorch_cpu") != std::string::npos && torch_has_mkl_inside()) return "mkl (static in LibTorch)";
    return "other (" + path + ")";
  }
  if (torch_has_mkl_inside()) return "mkl (static in LibTorch)";
  return "unknown";
}

std::string blas_warning() {
  const std::string lib = blas_library();
  if (lib.rfind("reference", 0) != 0) return "";
  return "LibTorch is using the reference BLAS " + lib.substr(10) +
         ", which is about 10x slower: install OpenBLAS (apt-get install libopenblas0-pthread)";
}

}  // namespace imsm
