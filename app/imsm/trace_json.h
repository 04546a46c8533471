// Generated tokens' traces (eval/token_trace.h) as the CLI prints them in
// --json: per token its id, text, gate, each stream's probability, entropy
// and KL, and, where kept, each stream's top candidates.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/token_trace.h"

namespace imsm::cli {

nlohmann::json trace_json(const std::vector<TokenTrace>& trace);

}  // namespace imsm::cli
