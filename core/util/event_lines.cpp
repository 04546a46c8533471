#include "util/event_lines.h"

#include <limits>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace imsm {

std::string event_line(const StepRecord& s) {
  return nlohmann::ordered_json{{"type", "step"},           {"step", s.step},
                        {"total_steps", s.total_steps}, {"epoch", s.epoch},
                        {"loss", s.loss},           {"learning_rate", s.learning_rate},
                        {"grad_norm", s.grad_norm}, {"tokens_per_second", s.tokens_per_second},
                        {"eta_seconds", s.eta_seconds}, {"gate_mean", s.gate_mean}}
      .dump();
}

std::string event_line(const Progress& p) {
  return nlohmann::ordered_json{{"type", "progress"}, {"stage", p.stage}, {"done", p.done}, {"total", p.total}, {"detail", p.detail}, {"eta_seconds", p.eta_seconds}}
      .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string event_line(const RunEvent& e) {
  nlohmann::ordered_json j;
  switch (e.kind) {
    case RunEvent::Kind::RunCreated: j = {{"type", "run_created"}, {"run_id", e.run_id}}; break;
    case RunEvent::Kind::Checkpoint: j = {{"type", "checkpoint"}, {"path", e.path}, {"step", e.step}}; break;
    case RunEvent::Kind::BestAdapter: j = {{"type", "best_adapter"}, {"path", e.path}, {"step", e.step}}; break;
    case RunEvent::Kind::Validation: {
      const ValidationRecord& v = e.validation;
      j = {{"type", "validation"}, {"step", v.step}, {"epoch", v.epoch}, {"benchmark", v.benchmark}, {"metric", v.metric}, {"value", v.value}};
      break;
    }
  }
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Hooks with_event_lines(Hooks hooks, std::ostream& out) {
  auto write = [&out](const std::string& line) { out << line << '\n' << std::flush; };
  Hooks h = hooks;
  h.on_step = [hooks, write](const StepRecord& s) {
    write(event_line(s));
    hooks.step(s);
  };
  h.on_progress = [hooks, write](const Progress& p) {
    write(event_line(p));
    hooks.progress(p);
  };
  h.on_event = [hooks, write](const RunEvent& e) {
    write(event_line(e));
    hooks.event(e);
  };
  return h;
}

namespace {

// A number of a line; null is what JSON makes of a NaN or an infinity (a diverged loss).
double number(const nlohmann::json& j, const char* key) {
  const auto& v = j.at(key);
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

}  // namespace

bool dispatch_event_line(const std::string& line, const Hooks& hooks) {
  if (line.rfind("{\"type\":", 0) != 0) return false;
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j["type"].is_string()) throw_bad_input("event line", "not a JSON object: " + line.substr(0, 80));
  const std::string type = j["type"];
  try {
    if (type == "step") {
      StepRecord s;
      s.step = j.at("step");
      s.total_steps = j.at("total_steps");
      s.epoch = j.at("epoch");
      s.loss = number(j, "loss");
      s.learning_rate = number(j, "learning_rate");
      s.grad_norm = number(j, "grad_norm");
      s.tokens_per_second = number(j, "tokens_per_second");
      s.eta_seconds = number(j, "eta_seconds");
      s.gate_mean = number(j, "gate_mean");
      hooks.step(s);
    } else if (type == "progress") {
      hooks.progress({j.at("stage"), j.at("done"), j.at("total"), j.at("detail"), number(j, "eta_seconds")});
    } else if (type == "run_created") {
      hooks.event({RunEvent::Kind::RunCreated, j.at("run_id"), "", 0});
    } else if (type == "checkpoint" || type == "best_adapter") {
      hooks.event({type == "checkpoint" ? RunEvent::Kind::Checkpoint : RunEvent::Kind::BestAdapter, 0, j.at("path"), j.at("step")});
    } else if (type == "validation") {
      RunEvent e;
      e.kind = RunEvent::Kind::Validation;
      e.validation = {j.at("step"), j.at("epoch"), j.at("benchmark"), j.at("metric"), number(j, "value")};
      hooks.event(e);
    } else {
      return false;  // a newer engine's event: ignored
    }
  } catch (const nlohmann::json::exception& e) {
    throw_bad_input("event line", std::string(e.what()) + ": " + line.substr(0, 80));
  }
  return true;
}

}  // namespace imsm
