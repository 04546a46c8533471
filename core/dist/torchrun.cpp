#include "dist/torchrun.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "util/error.h"
#include "util/event_lines.h"

namespace imsm::dist {

namespace {

// A child's end of the pipes: stdout and stderr; the parent reads the other ends.
struct Pipes {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
};

// Between fork and exec only async-signal-safe calls: `argv` is made before the fork.
[[noreturn]] void exec_child(char* const* argv, const Pipes& p) {
  setpgid(0, 0);  // its own process group: a Ctrl-C at the driver's terminal is the driver's to pass on
  dup2(p.out[1], STDOUT_FILENO);
  dup2(p.err[1], STDERR_FILENO);
  for (int fd : {p.out[0], p.out[1], p.err[0], p.err[1]}) close(fd);
  execv(argv[0], argv);
  _exit(127);
}

// Splits what arrives on a pipe into lines.
struct LineReader {
  int fd = -1;
  std::string pending;
  bool open() const { return fd >= 0; }
  // Reads what is there; calls `line` for every complete line; closes at end of file.
  template <typename F>
  void drain(F&& line) {
    char buf[8192];
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      if (!pending.empty()) line(pending);
      pending.clear();
      close(fd);
      fd = -1;
      return;
    }
    pending.append(buf, static_cast<size_t>(n));
    for (size_t at; (at = pending.find('\n')) != std::string::npos;) {
      line(pending.substr(0, at));
      pending.erase(0, at + 1);
    }
  }
};

// torchrun --standalone with N processes of `imsm --events ARGS`; the
// child's stdout and stderr are the pipes' write ends.
pid_t start_torchrun(const TorchrunJob& job, Pipes& p) {
  namespace fs = std::filesystem;
  if (!fs::exists(job.torchrun))
    throw_bad_input(job.torchrun, "no torchrun here: run `bash installer/setup-venv.sh`, or set IMSM_TORCHRUN to the venv's torchrun");
  if (!fs::exists(job.imsm)) throw_bad_input(job.imsm, "no imsm executable here: build it (cmake --build build)");
  if (job.processes < 1) throw_bad_input("processes", std::to_string(job.processes) + " is not a positive number of processes");
  std::vector<std::string> argv = {job.torchrun, "--standalone", "--nproc-per-node", std::to_string(job.processes), "--no-python",
                                   job.imsm, "--events"};
  argv.insert(argv.end(), job.args.begin(), job.args.end());
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  if (pipe(p.out) != 0 || pipe(p.err) != 0) throw Error(ErrorKind::Internal, "cannot make pipes for torchrun");
  const pid_t pid = fork();
  if (pid < 0) throw Error(ErrorKind::Internal, "cannot start torchrun (fork failed)");
  if (pid == 0) exec_child(c_argv.data(), p);
  close(p.out[1]);
  close(p.err[1]);
  return pid;
}

// The exit status as a shell gives it: the code, or 128 + the signal.
int exit_code_of(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string torchrun_path(const std::string& fallback) {
  const char* v = std::getenv("IMSM_TORCHRUN");
  return v && *v ? std::string(v) : fallback;
}

TorchrunOutcome run_torchrun(const TorchrunJob& job, const Hooks& hooks) {
  Pipes p;
  const pid_t pid = start_torchrun(job, p);
  LineReader out{p.out[0], {}}, err{p.err[0], {}};

  TorchrunOutcome outcome;
  std::string last_stderr;
  auto stderr_line = [&](const std::string& line) {
    if (line.empty()) return;
    if (line.rfind("imsm: ", 0) == 0 && outcome.error.rfind("imsm: ", 0) != 0) outcome.error = line;  // the first rank's error wins
    last_stderr = line;
  };
  auto stdout_line = [&](const std::string& line) {
    try {
      dispatch_event_line(line, hooks);
    } catch (const Error&) {
      // A garbled line: the run goes on (the workspace has every step); the processes are never left alone.
    }
  };
  std::chrono::steady_clock::time_point interrupted;
  bool killed = false;
  while (out.open() || err.open()) {
    pollfd fds[2] = {{out.fd, POLLIN, 0}, {err.fd, POLLIN, 0}};
    const int ready = poll(fds, 2, 100);
    if (ready > 0) {
      if (out.open() && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) out.drain(stdout_line);
      if (err.open() && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) err.drain(stderr_line);
    }
    const auto now = std::chrono::steady_clock::now();
    if (!outcome.cancelled && hooks.aborted()) {
      outcome.cancelled = true;
      interrupted = now;
      kill(pid, SIGINT);  // torchrun passes it to every rank
    } else if (outcome.cancelled && !killed && now - interrupted > std::chrono::seconds(90)) {
      killed = true;
      kill(pid, SIGKILL);  // torchrun kills the ranks 30 s after its SIGINT; it is well past that
    }
  }
  outcome.exit_code = exit_code_of(pid);
  if (outcome.exit_code != 0 && outcome.error.empty()) outcome.error = last_stderr;
  if (outcome.exit_code == 0) outcome.error.clear();
  return outcome;
}

}  // namespace imsm::dist
