#include "util/run_protocol.h"

#include "util/error.h"

namespace imsm {

namespace {
constexpr struct {
  RunStatus status;
  const char* name;
} kNames[] = {{RunStatus::Queued, "queued"},       {RunStatus::Running, "running"},     {RunStatus::Finished, "finished"},
              {RunStatus::Failed, "failed"},       {RunStatus::Cancelled, "cancelled"}, {RunStatus::Diverged, "diverged"},
              {RunStatus::Interrupted, "interrupted"}};
}  // namespace

const char* status_name(RunStatus status) {
  for (const auto& n : kNames)
    if (n.status == status) return n.name;
  return "unknown";
}

std::optional<RunStatus> parse_run_status(const std::string& name) {
  for (const auto& n : kNames)
    if (name == n.name) return n.status;
  return std::nullopt;
}

bool is_final(RunStatus s) {
  return s == RunStatus::Finished || s == RunStatus::Failed || s == RunStatus::Cancelled || s == RunStatus::Diverged;
}

bool can_resume(RunStatus s) { return s == RunStatus::Interrupted || s == RunStatus::Cancelled || s == RunStatus::Failed; }

void Hooks::check_abort(const std::string& message) const {
  if (aborted()) throw Error(ErrorKind::Cancelled, message);
}

}  // namespace imsm
