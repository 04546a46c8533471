// imsm diagnose intruders --adapter DIR [--model DIR] [--top-k 10] [--threshold 0.5] [--alpha 1] [--json]
// imsm diagnose kl --adapter DIR --data FILE [--model DIR] [--limit 256] [--batch-size 8] [--chat-template auto] [--json]
// imsm diagnose gate --adapter DIR --data FILE [the same options] [--json [--tokens]]
#include <algorithm>
#include <iostream>
#include <map>
#include <sstream>

#include "commands.h"
#include "interrupt.h"
#include "io/json_file.h"
#include "recipes/diagnose.h"
#include "util/table.h"

namespace imsm::cli {

namespace {

nlohmann::json report_json(const IntruderReport& r) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& m : r.modules)
    modules.push_back({{"module", m.module}, {"layer", m.layer}, {"projection", m.projection}, {"intruders", m.intruders},
                       {"top_k", m.top_k}, {"least_similarity", m.least_similarity}});
  return {{"model", r.model_dir}, {"adapter", r.adapter_dir}, {"method", r.method}, {"alpha", r.alpha}, {"top_k", r.top_k},
          {"threshold", r.threshold}, {"total", r.total}, {"modules", modules}};
}

// One row per layer, one column per projection: its intruders among its top k.
void print_grid(const IntruderReport& r) {
  std::vector<std::string> projections;
  std::map<int64_t, std::map<std::string, int64_t>> grid;
  for (const auto& m : r.modules) {
    if (std::find(projections.begin(), projections.end(), m.projection) == projections.end()) projections.push_back(m.projection);
    grid[m.layer][m.projection] = m.intruders;
  }
  Table table;
  table.header = {"layer"};
  table.header.insert(table.header.end(), projections.begin(), projections.end());
  for (const auto& [layer, counts] : grid) {
    std::vector<std::string> row = {std::to_string(layer)};
    for (const auto& p : projections) row.push_back(counts.count(p) ? std::to_string(counts.at(p)) : "");
    table.rows.push_back(row);
  }
  std::ostringstream title;
  title << r.method << " (" << r.adapter_dir << ")" << (r.alpha != 1 ? ", mixed in at alpha " + std::to_string(r.alpha).substr(0, 4) : "")
        << ": intruder dimensions among each weight's top " << r.top_k << " singular vectors (best |cos| with the base's < "
        << r.threshold << ")";
  std::cout << title.str() << "\n" << format_table(table) << "total: " << r.total << " in " << r.modules.size() << " matrices";
  const auto least = std::min_element(r.modules.begin(), r.modules.end(),
                                      [](const auto& a, const auto& b) { return a.least_similarity < b.least_similarity; });
  if (least != r.modules.end()) std::cout << "; the lowest best |cos| among the top " << r.top_k << ": " << format_fixed(least->least_similarity, 3)
                                          << " (" << least->module << ")";
  std::cout << "\n";
}

void add_intruders(CLI::App* cmd, Run& run) {
  auto req = std::make_shared<IntruderRequest>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* intruders = cmd->add_subcommand(
      "intruders",
      "Intruder dimensions (Shuttleworth et al., 2025) per adapted weight: of the tuned weight's top singular vectors, those unlike "
      "every singular vector of the base weight (PEFT's reduce_intruder_dimension's test)");
  intruders->add_option("--adapter", req->adapter_dir, "The adapter folder (PEFT, or IMSM: its tuned stream)")->required();
  intruders->add_option("--model", req->model_dir, "The base model folder (default: the adapter's base_model_name_or_path)");
  intruders->add_option("--top-k", req->top_k, "How many of the tuned weight's top singular vectors to test")->capture_default_str();
  intruders->add_option("--threshold", req->threshold, "An intruder's best |cos| with the base's singular vectors is below this")
      ->capture_default_str();
  intruders->add_option("--alpha", req->alpha, "The weight W + alpha * (the adapter's change): 1 as trained, less for a WiSE-FT mix")
      ->capture_default_str();
  intruders->add_flag("--json", *json_out, "Print one JSON object {method, alpha, top_k, threshold, total, modules: [...]}");
  intruders->callback([&run, req, json_out] {
    run = [req, json_out] {
      IntruderReport r;
      run_with_progress("diagnose", [&](const Hooks& hooks) { r = intruder_dimensions(*req, hooks); });
      if (*json_out) std::cout << report_json(r).dump() << "\n";
      else print_grid(r);
      return 0;
    };
  });
}

// The options naming an adapter and the task's rows it is examined on, as a run reads them.
void add_task_rows_options(CLI::App* sub, KlRequest& req, const std::string& adapter_help) {
  sub->add_option("--adapter", req.adapter_dir, adapter_help)->required();
  sub->add_option("--data", req.data_path, "The task's rows in the training format (the run's training file)")->required();
  sub->add_option("--model", req.model_dir, "The base model folder (default: the adapter's base_model_name_or_path)");
  sub->add_option("--limit", req.limit, "The first this many rows (0: all)")->capture_default_str();
  sub->add_option("--batch-size", req.batch_size, "Rows per forward pass")->capture_default_str();
  sub->add_option("--chat-template", req.chat_template, "As the run's \"chat_template\": auto, on, off or a template file")
      ->capture_default_str();
  sub->add_option("--max-input-length", req.max_input_length, "As the run's")->capture_default_str();
  sub->add_option("--max-output-length", req.max_output_length, "As the run's")->capture_default_str();
}

void add_kl(CLI::App* cmd, Run& run) {
  auto req = std::make_shared<KlRequest>();
  auto json_out = std::make_shared<bool>(false);
  CLI::App* kl = cmd->add_subcommand(
      "kl", "KL(base || tuned) on the task's own rows, per answer token (\"RL's Razor\", 2025: it predicts how much a tuning forgets)");
  add_task_rows_options(kl, *req, "The adapter folder (PEFT, or IMSM: its mix)");
  kl->add_flag("--json", *json_out, "Print one JSON object {method, mean, std_error, tokens, examples}");
  kl->callback([&run, req, json_out] {
    run = [req, json_out] {
      KlReport r;
      run_with_progress("diagnose", [&](const Hooks& hooks) { r = diagnose_kl(*req, hooks); });
      if (*json_out) {
        std::cout << nlohmann::json{{"model", r.model_dir}, {"adapter", r.adapter_dir}, {"method", r.method}, {"data", r.data_path},
                                    {"mean", r.mean}, {"std_error", r.std_error}, {"tokens", r.tokens}, {"examples", r.examples}}
                         .dump()
                  << "\n";
      } else {
        std::cout << r.method << " (" << r.adapter_dir << "): KL(base || tuned) " << format_fixed(r.mean, 4) << " nats per answer token (± "
                  << format_fixed(r.std_error, 4) << ", the examples' standard error) over " << r.tokens << " tokens of " << r.examples
                  << " rows of " << r.data_path << "\n";
      }
      return 0;
    };
  });
}

nlohmann::json gate_json(const GateSummary& s) {
  nlohmann::json kinds = nlohmann::json::array(), rows = nlohmann::json::array();
  for (const KindTally& k : s.kinds)
    kinds.push_back({{"part", k.answer ? "answer" : "prompt"}, {"kind", token_kind_name(k.kind)}, {"tokens", k.tokens}, {"rows", k.rows},
                     {"mean", k.mean}, {"std_error", k.std_error}});
  for (const GateRowTokens& r : s.rows) {
    nlohmann::json names = nlohmann::json::array();
    for (const TokenKind k : r.kinds) names.push_back(token_kind_name(k));
    rows.push_back({{"ids", r.ids}, {"gate", r.gate}, {"kinds", names}, {"query_len", r.query_len}});
  }
  nlohmann::json j = {{"model", s.model_dir}, {"adapter", s.adapter_dir}, {"method", s.method}, {"data", s.data_path}, {"mean", s.mean},
                      {"tokens", s.tokens}, {"examples", s.examples}, {"kinds", kinds}};
  if (!s.rows.empty()) j["rows"] = rows;
  return j;
}

void print_gate(const GateSummary& s) {
  Table table;
  table.header = {"part", "token kind", "tokens", "rows", "mean gate", "± s.e."};
  for (const KindTally& k : s.kinds)
    table.rows.push_back({k.answer ? "answer" : "prompt", token_kind_name(k.kind), std::to_string(k.tokens), std::to_string(k.rows),
                          format_fixed(k.mean, 3), format_fixed(k.std_error, 3)});
  std::cout << s.method << " (" << s.adapter_dir << "): the gate on the original memory (1: the base model's, 0: the tuned one's) at "
            << s.tokens << " tokens of " << s.examples << " rows of " << s.data_path << ", by the kind of the token each position predicts\n"
            << format_table(table) << "all tokens: " << format_fixed(s.mean, 3) << " (s.e. clustered by row)\n";
}

void add_gate(CLI::App* cmd, Run& run) {
  auto req = std::make_shared<KlRequest>();
  auto json_out = std::make_shared<bool>(false), tokens = std::make_shared<bool>(false);
  CLI::App* gate = cmd->add_subcommand("gate",
                                       "IMSM's gate on the task's own rows by part (prompt, answer) and token kind (numbers, names, "
                                       "function words, punctuation, words, special tokens): where the mix leans on the original memory");
  add_task_rows_options(gate, *req, "An IMSM adapter folder (with its gate)");
  gate->add_flag("--json", *json_out, "Print one JSON object {method, mean, tokens, examples, kinds: [...]}");
  gate->add_flag("--tokens", *tokens, "--json: also every row's ids, gate per position and token kinds (\"rows\")");
  gate->callback([&run, req, json_out, tokens] {
    run = [req, json_out, tokens] {
      GateSummary s;
      run_with_progress("diagnose", [&](const Hooks& hooks) { s = diagnose_gate(*req, *tokens && *json_out, hooks); });
      if (*json_out) std::cout << gate_json(s).dump() << "\n";
      else print_gate(s);
      return 0;
    };
  });
}

}  // namespace

void add_diagnose(CLI::App& app, Run& run) {
  CLI::App* cmd = app.add_subcommand("diagnose", "Diagnostics of what a tuning did to its base model");
  cmd->require_subcommand(1);
  add_intruders(cmd, run);
  add_kl(cmd, run);
  add_gate(cmd, run);
}

}  // namespace imsm::cli
