#include "recipes/environment.h"

#include <torch/torch.h>
#include <torch/version.h>

#include "model/blas_check.h"
#include "util/process.h"

namespace imsm {

std::string engine_version() { return IMSM_VERSION; }
std::string torch_version() { return TORCH_VERSION; }
bool cuda_available() { return torch::cuda::is_available(); }
std::string blas_in_use() { return blas_library(); }
std::string blas_warning_line() { return blas_warning(); }

report::Environment report_environment() {
  return {engine_version(), torch_version(), utc_now_iso8601(), current_process().host};
}

}  // namespace imsm
