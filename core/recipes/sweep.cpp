#include "recipes/sweep.h"

#include <algorithm>
#include <map>

#include "io/json_file.h"
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

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "learning_rate=0.001,lora_r=8": a cell's settings, as a label part and a folder name.
std::string cell_text(const std::vector<std::pair<std::string, nlohmann::json>>& cell, const std::string& between) {
  std::string out;
  for (const auto& [key, value] : cell) out += (out.empty() ? "" : between) + key + "=" + value_text(value);
  return out;
}

}  // namespace

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

std::vector<std::string> sweep_names(const store::Workspace& ws) {
  std::vector<std::string> names;
  for (const auto& r : ws.runs()) {
    if (r.kind != "train") continue;
    const auto j = nlohmann::json::parse(r.config_json, nullptr, false);
    const std::string name = json::text_or(j, "sweep", "");
    if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

SweepData sweep_data(const store::Workspace& ws, const std::string& name) {
  SweepData d;
  d.name = name;
  std::vector<nlohmann::json> configs;
  std::map<int64_t, std::vector<std::pair<std::string, double>>> scores_of;  // run id -> its adapter's scores
  for (RunSummary& s : run_summaries(ws)) scores_of[s.id] = std::move(s.scores);
  for (const auto& r : ws.runs()) {
    const auto j = nlohmann::json::parse(r.config_json, nullptr, false);
    if (r.kind != "train" || !j.is_object() || json::text_or(j, "sweep", "") != name) continue;
    configs.push_back(j);
    SweepRun run{r.id, r.seed, nlohmann::json::object(), scores_of[r.id]};
    for (const auto& [score, value] : run.scores)
      if (std::find(d.scores.begin(), d.scores.end(), score) == d.scores.end()) d.scores.push_back(score);
    d.runs.push_back(std::move(run));
  }
  const nlohmann::json first = configs.empty() ? nlohmann::json::object() : configs.front();
  for (const auto& item : first.items()) {  // the keys that differ
    const std::string& key = item.key();
    if (key == "seed" || key == "output_dir" || key == "label" || key == "sweep") continue;
    if (std::any_of(configs.begin(), configs.end(), [&](const nlohmann::json& c) { return c.value(key, nlohmann::json()) != item.value(); }))
      d.keys.push_back(key);
  }
  for (size_t i = 0; i < d.runs.size(); ++i)
    for (const std::string& key : d.keys) d.runs[i].settings[key] = configs[i].value(key, nlohmann::json());
  return d;
}

std::vector<SweepPoint> sweep_points(const SweepData& data, const std::string& key, const std::string& score) {
  std::vector<std::string> categories;  // a non-numeric key's values, by first appearance
  std::vector<SweepPoint> out;
  for (const SweepRun& r : data.runs) {
    const auto s = std::find_if(r.scores.begin(), r.scores.end(), [&](const auto& p) { return p.first == score; });
    if (s == r.scores.end() || !r.settings.contains(key)) continue;  // not evaluated (yet)
    const nlohmann::json& v = r.settings[key];
    SweepPoint p;
    p.x_text = value_text(v);
    if (v.is_number()) {
      p.x = v.get<double>();
    } else {
      auto c = std::find(categories.begin(), categories.end(), p.x_text);
      if (c == categories.end()) c = categories.insert(categories.end(), p.x_text);
      p.x = static_cast<double>(c - categories.begin());
    }
    for (const auto& [other, value] : r.settings.items())
      if (other != key) p.series += (p.series.empty() ? "" : ", ") + other + "=" + value_text(value);
    p.run_id = r.id;
    p.seed = r.seed;
    p.value = s->second;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace imsm
