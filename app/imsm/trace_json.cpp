#include "trace_json.h"

namespace imsm::cli {
namespace {

nlohmann::json candidates(const std::vector<Candidate>& top) {
  nlohmann::json out = nlohmann::json::array();
  for (const Candidate& c : top) out.push_back({{"id", c.id}, {"piece", c.piece}, {"prob", c.prob}});
  return out;
}

}  // namespace

nlohmann::json trace_json(const std::vector<TokenTrace>& trace) {
  nlohmann::json out = nlohmann::json::array();
  for (const TokenTrace& t : trace) {
    nlohmann::json j = {{"id", t.id}, {"piece", t.piece}, {"gate_mean", t.gate_mean}, {"steered", t.steered},
                        {"p_original", t.p_original}, {"p_tuned", t.p_tuned}, {"p_mix", t.p_mix},
                        {"entropy_original", t.entropy_original}, {"entropy_tuned", t.entropy_tuned}, {"entropy_mix", t.entropy_mix},
                        {"kl_original_tuned", t.kl_original_tuned}};
    if (!t.top_mixed.empty()) {
      j["top_original"] = candidates(t.top_original);
      j["top_tuned"] = candidates(t.top_tuned);
      j["top_mixed"] = candidates(t.top_mixed);
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace imsm::cli
