#include "config/sweep_grid.h"

#include <algorithm>

#include "report/results.h"
#include "util/error.h"

namespace imsm {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

std::vector<std::string> split(const std::string& s, const std::string& separators) {
  std::vector<std::string> out;
  std::string item;
  for (const char ch : s + separators[0]) {
    if (separators.find(ch) == std::string::npos) {
      item += ch;
      continue;
    }
    out.push_back(trim(item));
    item.clear();
  }
  return out;
}

nlohmann::json value_of(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() || j.is_object() || j.is_array() || j.is_null() ? nlohmann::json(text) : j;
}

// "learning_rate=0.001,lora_r=8": a cell's settings, as a label part and a folder name.
std::string cell_text(const std::vector<std::pair<std::string, nlohmann::json>>& cell, const std::string& between) {
  std::string out;
  for (const auto& [key, value] : cell) out += (out.empty() ? "" : between) + key + "=" + sweep_value_text(value);
  return out;
}

}  // namespace

std::string sweep_value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::vector<SweepAxis> parse_sweep_axes(const std::string& text) {
  std::vector<SweepAxis> axes;
  for (const std::string& line : split(text, "\n;")) {
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw_bad_input("sweep", "\"" + line + "\": write KEY = VALUE, VALUE, ... (e.g. learning_rate = 1e-4, 3e-4)");
    SweepAxis axis{trim(line.substr(0, eq)), {}};
    if (axis.key.empty()) throw_bad_input("sweep", "\"" + line + "\": the key is missing before '='");
    if (axis.key == "seed") throw_bad_input("sweep", "seeds have their own field (Seeds): leave them out of the grid");
    if (std::any_of(axes.begin(), axes.end(), [&](const SweepAxis& a) { return a.key == axis.key; }))
      throw_bad_input("sweep", "\"" + axis.key + "\" is swept twice: give all its values on one line");
    for (const std::string& v : split(line.substr(eq + 1), ",")) {
      if (v.empty()) throw_bad_input("sweep", axis.key + ": an empty value (two commas, or a comma at the end?)");
      axis.values.push_back(value_of(v));
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

std::vector<TrainConfig> expand_sweep(const nlohmann::json& base, const std::vector<SweepAxis>& axes, const std::string& seeds,
                                      const std::string& name) {
  if (trim(name).empty()) throw_bad_input("sweep", "give the sweep a name: it groups its runs and names their folder");
  const std::string base_label = base.value("label", std::string());  // "": each cell's method names it
  const std::string base_out = base.value("output_dir", std::string("runs/imsm"));
  std::vector<TrainConfig> out;
  std::vector<size_t> at(axes.size(), 0);  // the cell: an index into each axis, the last fastest
  for (bool more = true; more;) {
    std::vector<std::pair<std::string, nlohmann::json>> cell;
    nlohmann::json j = base;
    for (size_t a = 0; a < axes.size(); ++a) {
      cell.emplace_back(axes[a].key, axes[a].values[at[a]]);
      j[axes[a].key] = axes[a].values[at[a]];
    }
    const std::string settings = cell.empty() ? name : cell_text(cell, ", ");
    j["sweep"] = name;
    j["output_dir"] = base_out + "/" + name + (cell.empty() ? "" : "/" + cell_text(cell, ","));
    for (TrainConfig& c : expand_seeds(j, seeds, "sweep cell " + settings)) {
      c.label = (base_label.empty() ? report::method_label(method_name(c.peft), variant_name(c.variant)) : base_label) + " · " + settings;
      out.push_back(std::move(c));
    }
    more = false;
    for (size_t a = axes.size(); a-- > 0;) {
      if (++at[a] < axes[a].values.size()) {
        more = true;
        break;
      }
      at[a] = 0;
    }
  }
  return out;
}

}  // namespace imsm
