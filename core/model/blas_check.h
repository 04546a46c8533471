// Which BLAS LibTorch's CPU matmuls run on. Debian's reference BLAS is ~15x
// slower than OpenBLAS; the executables warn at start-up when it is in use.
#pragma once
#include <string>

namespace imsm {

// "openblas (/usr/lib/...)", "mkl", "reference (/usr/lib/.../blas/libblas.so.3)", "unknown".
std::string blas_library();
// Empty when the BLAS is fine; otherwise one line saying what to install.
std::string blas_warning();

}  // namespace imsm
