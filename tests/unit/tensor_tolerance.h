// tolerance.h's bounds for tensors: two fp32 computations of one function
// agree within `ulps` ulps of fp32 at the reference's largest |value|.
#pragma once
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "tolerance.h"

namespace imsm::testing {

inline ::testing::AssertionResult close_at_scale(const torch::Tensor& got, const torch::Tensor& want, double ulps) {
  const double scale = want.abs().max().item<double>();
  const double diff = (got.to(torch::kFloat64) - want.to(torch::kFloat64)).abs().max().item<double>();
  const double bound = fp32_ulps(ulps, scale);
  std::ostringstream what;
  what << "max |difference| " << diff << ", bound " << bound << " (" << ulps << " ulps at max |reference| " << scale << ")";
  if (diff <= bound) return ::testing::AssertionSuccess() << what.str();
  return ::testing::AssertionFailure() << what.str();
}

}  // namespace imsm::testing
