// What the engine runs on, for --version, logs and reports (torch-free header).
#pragma once
#include <string>

#include "report/report.h"

namespace imsm {

std::string engine_version();   // "0.1.0"
std::string torch_version();    // "1.13.0"
bool cuda_available();
std::string blas_in_use();      // "openblas (/usr/lib/...)", ...
std::string blas_warning_line();  // "" when the BLAS is fast
report::Environment report_environment();  // versions, now, host: the header of every report

}  // namespace imsm
