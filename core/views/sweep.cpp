#include "views/sweep.h"

#include <algorithm>
#include <map>

#include "config/sweep_grid.h"
#include "io/json_file.h"
#include "views/run_table.h"

namespace imsm {

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
    p.x_text = sweep_value_text(v);
    if (v.is_number()) {
      p.x = v.get<double>();
    } else {
      auto c = std::find(categories.begin(), categories.end(), p.x_text);
      if (c == categories.end()) c = categories.insert(categories.end(), p.x_text);
      p.x = static_cast<double>(c - categories.begin());
    }
    for (const auto& [other, value] : r.settings.items())
      if (other != key) p.series += (p.series.empty() ? "" : ", ") + other + "=" + sweep_value_text(value);
    p.run_id = r.id;
    p.seed = r.seed;
    p.value = s->second;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace imsm
