#include "imsm/gate_config.h"

#include <sstream>

#include "io/json_file.h"
#include "util/error.h"

namespace imsm {

const Choices<GateVariant>& gate_variants() {
  static const Choices<GateVariant> c = {{"query", GateVariant::Query}, {"no-query", GateVariant::NoQuery},
                                         {"no-gate", GateVariant::NoGate}, {"none", GateVariant::None}};
  return c;
}

std::string variant_name(GateVariant v) { return gate_variants().name(v); }

bool has_weights(GateVariant v) { return v == GateVariant::Query || v == GateVariant::NoQuery; }

GateVariant parse_variant(const std::string& name, const std::string& where) {
  if (const auto v = gate_variants().find(name)) return *v;
  throw_bad_input(where, "unknown IMSM variant \"" + name + "\" (" + gate_variants().list() + ")");
}

nlohmann::json gate_config_json(const GateConfig& c) {
  nlohmann::json j = {{"variant", variant_name(c.variant)}, {"gate_rank", c.rank},
                      {"hidden_size", c.hidden_size}, {"dropout_prob", c.dropout}};
  if (c.variant == GateVariant::NoGate) j["mix_alpha"] = c.alpha;
  return j;
}

GateConfig read_gate_config(const std::string& path) {
  const auto j = json::read_file(path);
  GateConfig c;
  c.variant = parse_variant(json::get_string(j, "variant", path), path);
  c.rank = json::get_int(j, "gate_rank", path);
  c.hidden_size = json::get_int(j, "hidden_size", path);
  c.dropout = json::get_number_or(j, "dropout_prob", 0.1, path);
  c.alpha = json::get_number_or(j, "mix_alpha", 0.5, path);  // older folders: the official ½
  if (!(c.alpha >= 0 && c.alpha <= 1)) throw_bad_input(path, "mix_alpha must be in [0, 1]");
  if (!(c.dropout >= 0 && c.dropout < 1)) throw_bad_input(path, "dropout_prob must be in [0, 1)");
  if (c.rank <= 0 || c.hidden_size <= 0) throw_bad_input(path, "gate_rank and hidden_size must be positive");
  return c;
}

std::string mix_alpha_text(double alpha) {
  std::ostringstream text;
  text << alpha;
  return text.str();
}

void check_mix_alphas(const std::vector<double>& alphas, const std::string& where) {
  for (double a : alphas)
    if (!(a >= 0 && a <= 1)) throw_bad_input(where, "α = " + mix_alpha_text(a) + " is outside [0, 1] (0: the tuned model, 1: the original)");
}

}  // namespace imsm
