// Helpers of the CLI tests: run the imsm binary, capture its output and exit
// code, a small random model made once per test binary.
#pragma once
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../unit/test_util.h"

namespace imsm::clitest {

using imsm::testing::TempDir;

struct Result {
  int code = -1;
  std::string out, err;
};

inline std::string quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a program with arguments (and "VAR=value" settings before it), capturing
// stdout, stderr and the exit code.
inline Result run_program(const std::string& program, const std::vector<std::string>& args, const std::string& env = "") {
  static TempDir scratch;
  std::string cmd = env + (env.empty() ? "" : " ") + quote(program);
  for (const auto& a : args) {
    cmd += ' ';  // two appends, not " " + quote(a): GCC 12's -Wrestrict misfires on that one
    cmd += quote(a);
  }
  cmd += " > " + quote(scratch.file("out")) + " 2> " + quote(scratch.file("err"));
  const int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(scratch.file("out"));
  r.err = slurp(scratch.file("err"));
  return r;
}

inline Result imsm_run(const std::vector<std::string>& args, const std::string& env = "") {
  return run_program(IMSM_BINARY, args, env);
}

// Exit code 2 and exactly one line on stderr holding every needle.
inline void expect_bad(const std::vector<std::string>& args, const std::vector<std::string>& needles) {
  const Result r = imsm_run(args);
  std::string all;
  for (const auto& a : args) all += a + " ";
  EXPECT_EQ(r.code, 2) << all << "\nstderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << all << "\nstderr: " << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << "\"" << n << "\" not in: " << r.err;
}

inline const std::string kLlama2Tokenizer = std::string(IMSM_TOKENIZER_FIXTURES) + "/llama2";

// A small random model, made once by `imsm create-model`.
inline const std::string& model_dir() {
  static TempDir dir;
  static const std::string path = [] {
    const std::string p = dir.file("model");
    const Result r = imsm_run({"create-model", "--out", p, "--tokenizer", kLlama2Tokenizer, "--hidden-size", "64",
                               "--intermediate-size", "128", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--seed", "3"});
    EXPECT_EQ(r.code, 0) << r.err;
    return p;
  }();
  return path;
}

// A copy of the model folder to break.
inline std::string copy_model(const TempDir& dir) {
  const std::string p = dir.file("copy");
  std::filesystem::copy(model_dir(), p);
  return p;
}

}  // namespace imsm::clitest
