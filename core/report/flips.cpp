#include "report/flips.h"

#include <map>

#include "eval/metrics.h"
#include "eval/significance.h"
#include "util/error.h"

namespace imsm::report {

namespace {

bool right(const std::string& metric, const ItemScore& s) { return (metric == "EM" ? s.em : metric == "Contain" ? s.contain : s.accuracy) > 0.5; }

void check_eval(const store::Workspace& ws, int64_t id) {
  const store::RunRecord r = ws.run(id);
  if (r.kind != "eval" || r.status != RunStatus::Finished)
    throw_bad_input("run " + std::to_string(id), std::string("is a ") + status_name(r.status) + " " + r.kind + " run; items that flipped compare two finished evaluations");
}

}  // namespace

FlipList flipped_items(const store::Workspace& ws, int64_t run_a, int64_t run_b) {
  check_eval(ws, run_a);
  check_eval(ws, run_b);
  FlipList out;
  out.run_a = run_a;
  out.run_b = run_b;
  std::map<std::string, std::string> task_of_b;
  for (const auto& e : ws.evaluations(run_b)) task_of_b.emplace(e.benchmark, e.task);
  std::vector<std::pair<std::string, store::Evaluation>> benchmarks;  // a's benchmarks with a right/wrong metric, first seen
  for (const auto& e : ws.evaluations(run_a)) {
    if (!is_binary_metric(e.metric)) continue;
    bool seen = false;
    for (const auto& [name, first] : benchmarks) seen = seen || name == e.benchmark;
    if (!seen) benchmarks.emplace_back(e.benchmark, e);
  }
  for (const auto& [name, e] : benchmarks) {
    if (!task_of_b.count(name)) {
      out.skipped.push_back(name + ": run " + std::to_string(run_b) + " did not evaluate it");
      continue;
    }
    const auto a = ws.predictions(run_a, name, false), b = ws.predictions(run_b, name, false);
    if (a.empty() || b.empty()) {
      out.skipped.push_back(name + ": no stored answers");
      continue;
    }
    std::map<int64_t, const store::Prediction*> b_of;
    for (const auto& p : b) b_of[p.example_index] = &p;
    std::vector<Flip> found;
    int64_t compared = 0;
    bool same_questions = true;
    for (const auto& pa : a) {
      const auto it = b_of.find(pa.example_index);
      if (it == b_of.end()) continue;
      const store::Prediction& pb = *it->second;
      if (pa.input != pb.input) {
        same_questions = false;
        break;
      }
      ++compared;
      const bool ra = right(e.metric, score_item(e.task, {pa.answer, pa.golds})), rb = right(e.metric, score_item(e.task, {pb.answer, pb.golds}));
      if (ra != rb) found.push_back({name, e.metric, pa.example_index, pa.input, pa.golds, pa.answer, pb.answer, rb});
    }
    if (!same_questions) {
      out.skipped.push_back(name + ": the two runs answered other questions (other benchmark files)");
      continue;
    }
    out.compared += compared;
    for (Flip& f : found) {
      (f.gained ? out.gained : out.lost) += 1;
      out.flips.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace imsm::report
