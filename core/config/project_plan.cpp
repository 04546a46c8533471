#include "config/project_plan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <system_error>

#include "imsm/gate_config.h"
#include "io/json_file.h"
#include "report/results.h"
#include "util/error.h"

namespace fs = std::filesystem;

namespace imsm {

namespace {

std::string resolve(const fs::path& base, const std::string& p) {
  return (fs::path(p).is_absolute() ? fs::path(p) : base / p).lexically_normal().string();
}

// "IMSM((IA)³)" -> "IMSM-IA3": letters and digits, one '-' between words.
std::string folder_name(const std::string& label) {
  const std::string cubed = ")³";
  std::string text;  // (IA)³ -> (IA3)
  for (size_t i = 0; i < label.size();) {
    if (label.compare(i, cubed.size(), cubed) == 0) {
      text += "3)";
      i += cubed.size();
    } else {
      text += label[i++];
    }
  }
  std::string out;
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch))) out += ch;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

namespace {

using DataFiles = std::map<std::string, std::string>;  // a key of "data" -> the file it names (OUTPUT/data/KEY.jsonl)

// "mix_alphas": the α-sweep of every adapter trained without a gate.
void read_mix_alphas(const nlohmann::json& j, const std::string& path, ProjectPlan& plan) {
  if (!j.contains("mix_alphas")) return;
  const auto& alphas = j["mix_alphas"];
  if (!alphas.is_array() || alphas.empty() || !std::all_of(alphas.begin(), alphas.end(), [](const auto& a) { return a.is_number(); }))
    throw_bad_input(path, "key \"mix_alphas\" must be a list of numbers in [0, 1], e.g. [0.25, 0.5, 0.75]");
  plan.mix_alphas = alphas.get<std::vector<double>>();
  check_mix_alphas(plan.mix_alphas, path + ": key \"mix_alphas\"");
}

// One dataset of "data": made here ("task") or a slice of a JSON-lines file ("file", relative to the project).
DataRequest read_dataset(const nlohmann::json& spec, const std::string& key, const fs::path& base, const std::string& where) {
  const bool plain = !key.empty() && key[0] != '.' && std::all_of(key.begin(), key.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
  });
  if (!plain) throw_bad_input(where, "a dataset's key names its file (OUTPUT/data/KEY.jsonl): letters, digits, '-', '_' and '.' only");
  json::require_known_keys(spec, {"task", "count", "seed", "concepts", "max_steps", "max_operand", "file", "offset", "limit"}, where);
  DataRequest q;
  if (spec.contains("file") == spec.contains("task"))
    throw_bad_input(where, "give either \"task\" (data made here) or \"file\" (a JSON-lines file, relative to the project file)");
  if (spec.contains("file")) {
    q.file = resolve(base, json::get_string(spec, "file", where));
    if (!fs::is_regular_file(q.file)) throw_bad_input(where, "file " + q.file + " does not exist");
    q.offset = json::get_int_or(spec, "offset", 0, where);
    q.limit = json::get_int_or(spec, "limit", -1, where);
    if (q.offset < 0 || q.limit == 0 || q.limit < -1) throw_bad_input(where, "offset must be >= 0 and limit a positive number of records");
  } else {
    q.task = json::get_string(spec, "task", where);
  }
  q.count = json::get_int_or(spec, "count", q.count, where);
  q.seed = static_cast<uint64_t>(json::get_int_or(spec, "seed", 1, where));
  q.concepts = json::get_int_or(spec, "concepts", q.concepts, where);
  q.max_steps = json::get_int_or(spec, "max_steps", q.max_steps, where);
  q.max_operand = json::get_int_or(spec, "max_operand", q.max_operand, where);
  return q;
}

// "data": each dataset's request, written under OUTPUT/data/.
DataFiles read_data(const nlohmann::json& j, const std::string& path, const fs::path& base, ProjectPlan& plan) {
  DataFiles files;
  const auto& data = json::require(j, "data", path);
  if (!data.is_object() || data.empty()) throw_bad_input(path, "key \"data\" must name at least one dataset");
  for (const auto& [key, spec] : data.items()) {
    DataRequest q = read_dataset(spec, key, base, path + ": data." + key);
    q.out = plan.output_dir + "/data/" + key + ".jsonl";
    plan.data.emplace_back(key, q);
    files[key] = q.out;
  }
  return files;
}

// "suite": its benchmarks' datasets resolved to the generated files.
void read_suite(const nlohmann::json& j, const std::string& path, const DataFiles& files, ProjectPlan& plan) {
  plan.suite = json::require(j, "suite", path);
  auto& suite = plan.suite;
  if (!suite.is_object() || !suite.contains("benchmarks") || !suite["benchmarks"].is_array()) throw_bad_input(path, "key \"suite\" needs \"benchmarks\"");
  suite["name"] = json::get_string_or(suite, "name", plan.name, path + ": suite");
  for (auto& b : suite["benchmarks"]) {
    const std::string d = json::text_or(b, "dataset", "");
    if (!files.count(d)) throw_bad_input(path, "suite benchmark dataset \"" + d + "\" is not a key of \"data\"");
    b["dataset"] = files.at(d);
  }
}

// One run's training keys: "train" with the run's own over it, the data keys resolved to their files.
nlohmann::json run_keys(const nlohmann::json& train, const nlohmann::json& run, const std::string& train_data, const DataFiles& files,
                        const ProjectPlan& plan, const std::string& path) {
  nlohmann::json c = train;
  c.update(run);
  c["model_path"] = plan.model;
  c["data_path"] = files.at(train_data);
  for (const char* key : {"gate_probe_data", "test_data_path", "replay_data", "ewc_data"})  // keys of "data", like train.data
    if (c.contains(key)) {
      const std::string name = json::text_or(c, key, "");
      if (!files.count(name)) throw_bad_input(path, std::string(key) + " \"" + name + "\" is not a key of \"data\"");
      c[key] = files.at(name);
    }
  if (c.contains("eval_suite")) {  // during training: the project's own suite, or none
    if (c["eval_suite"] != "suite" && c["eval_suite"] != "")
      throw_bad_input(path, "eval_suite: in a project, \"suite\" (evaluate the project's suite during training) or \"\"");
    if (c["eval_suite"] == "suite") c["eval_suite"] = plan.suite_file;
  }
  c["dataset"] = train_data;
  return c;
}

// "train", "runs" and "seeds": the run matrix, methods x seeds, each run in its folder OUTPUT/LABEL-seedN.
void plan_runs(const nlohmann::json& j, const std::string& path, const DataFiles& files, ProjectPlan& plan) {
  nlohmann::json train = json::require(j, "train", path);
  if (!train.is_object()) throw_bad_input(path, "key \"train\" must be an object");
  const std::string train_data = json::text_or(train, "data", "");
  if (!files.count(train_data)) throw_bad_input(path, "train.data \"" + train_data + "\" is not a key of \"data\"");
  train.erase("data");
  const auto& runs = json::require(j, "runs", path);
  const auto& seeds = json::require(j, "seeds", path);
  if (!runs.is_array() || runs.empty() || !seeds.is_array() || seeds.empty()) throw_bad_input(path, "\"runs\" and \"seeds\" must be non-empty lists");
  for (size_t i = 0; i < runs.size(); ++i)
    if (!runs[i].is_object()) throw_bad_input(path, "runs[" + std::to_string(i) + "] must be an object of training keys, e.g. {\"peft\": \"lora\"}");
  std::map<std::string, size_t> run_of_label;  // one method per label: labels name the folders and the report's rows
  for (size_t i = 0; i < runs.size(); ++i) {
    nlohmann::json run = runs[i];
    const bool own = run.contains("seeds");  // a run's own seeds: an ablation on fewer
    const nlohmann::json run_seeds = own ? run["seeds"] : seeds;
    run.erase("seeds");
    const std::string where = own ? "runs[" + std::to_string(i) + "].seeds" : "\"seeds\"";
    if (!run_seeds.is_array() || run_seeds.empty()) throw_bad_input(path, where + " must be a non-empty list");
    for (const auto& seed : run_seeds)
      if (!seed.is_number_integer()) throw_bad_input(path, where + " must be whole numbers, e.g. [1, 2, 3]; not " + seed.dump());
    for (const auto& seed : run_seeds) {
      nlohmann::json c = run_keys(train, run, train_data, files, plan, path);
      c["seed"] = seed;
      const std::string label = report::method_label(c.dump());
      const auto [first, added] = run_of_label.emplace(label, i);
      if (!added && first->second != i)
        throw_bad_input(path, "runs[" + std::to_string(i) + "] and runs[" + std::to_string(first->second) + "] are both \"" + label +
                                  "\": their folders and report rows would be one; give each run a \"label\" (e.g. \"" + label + " lr 1e-3\")");
      c["output_dir"] = plan.output_dir + "/" + folder_name(label) + "-seed" + seed.dump();
      plan.runs.push_back(parse_train_config(c, path + ": runs[" + std::to_string(i) + "]"));
      plan.run_labels.push_back(label + " seed " + seed.dump());
    }
  }
}

}  // namespace

ProjectPlan plan_project(const std::string& path) {
  const auto j = json::read_file(path);
  json::require_known_keys(j, {"name", "model", "workspace", "output_dir", "data", "suite", "train", "runs", "seeds", "report", "mix_alphas"}, path);
  const fs::path base = fs::absolute(path).parent_path();
  ProjectPlan plan;
  plan.name = json::get_string_or(j, "name", fs::path(path).stem().string(), path);
  plan.model = resolve(base, json::get_string(j, "model", path));
  plan.output_dir = resolve(base, json::get_string_or(j, "output_dir", "../runs/" + plan.name, path));
  plan.workspace = resolve(base, json::get_string_or(j, "workspace", plan.output_dir + "/workspace.imsm", path));
  plan.report = resolve(fs::path(plan.output_dir), json::get_string_or(j, "report", "report.html", path));
  plan.suite_file = plan.output_dir + "/suite.json";
  if (!fs::exists(fs::path(plan.model) / "config.json")) throw_bad_input(path, "key \"model\": no model at " + plan.model);
  read_mix_alphas(j, path, plan);
  const DataFiles files = read_data(j, path, base, plan);
  read_suite(j, path, files, plan);
  plan_runs(j, path, files, plan);
  return plan;
}

std::vector<std::string> project_inputs(const ProjectPlan& plan) {
  std::vector<std::string> files;
  for (const auto& [key, request] : plan.data) files.push_back(request.out);
  files.push_back(plan.suite_file);
  return files;
}

}  // namespace imsm
