// The IMSM gate's settings and its imsm_config.json, torch-free (read by the
// engine when it loads a gate, by the workspace tools and by the fuzzers).
//   {"variant": "query", "gate_rank": 8, "hidden_size": 4096, "dropout_prob": 0.1}
//   (+ "mix_alpha" for no-gate)
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/choices.h"

namespace imsm {

// None is the PEFT method alone: no gate object at all (a null ImsmGate*).
enum class GateVariant { Query, NoQuery, NoGate, None };

const Choices<GateVariant>& gate_variants();  // query, no-query, no-gate, none
std::string variant_name(GateVariant v);  // "query", "no-query", "no-gate", "none"
bool has_weights(GateVariant v);           // query and no-query have W_A, W_B; no-gate and none none
GateVariant parse_variant(const std::string& name, const std::string& where);

struct GateConfig {
  GateVariant variant = GateVariant::Query;
  int64_t rank = 8;
  int64_t hidden_size = 0;
  double dropout = 0.1;
  double alpha = 0.5;  // no-gate: the fixed mix's weight of the original memory (½: the official mode 0; WiSE-FT's α)
  int64_t blocks() const { return variant == GateVariant::Query ? 4 : 2; }  // k
};

// imsm_config.json as written beside a gate (mix_alpha for no-gate only).
nlohmann::json gate_config_json(const GateConfig& c);
// Reads and checks imsm_config.json at `path`: bad input names the file and the key.
GateConfig read_gate_config(const std::string& path);

// BadInput on `where` naming a mix α outside [0, 1] (a sweep along α: WiSE-FT).
void check_mix_alphas(const std::vector<double>& alphas, const std::string& where = "--mix-alpha");
// α as labels show it: "0.25".
std::string mix_alpha_text(double alpha);

}  // namespace imsm
