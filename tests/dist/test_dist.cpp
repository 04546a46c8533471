// Several processes over c10d (Gloo on the CPU, loopback), started by the
// venv's torchrun exactly as users start the engine: collectives against
// hand-computed values, a dead rank ends the other within the timeout with one
// line naming it, and the launch variables are read (or refused) as stated.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "../cli/cli_util.h"
#include "dist/launch.h"

using imsm::clitest::Result;
using imsm::clitest::run_program;

namespace {

Result torchrun(const std::string& mode, const std::string& env = "") {
  return run_program(IMSM_TORCHRUN, {"--standalone", "--nproc-per-node", "2", "--no-python", IMSM_DIST_WORKER, mode}, env);
}

TEST(Dist, TwoProcessesAllReduceAllGatherAndMeet) {
  const Result r = torchrun("collectives");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rank 0 of 2: collectives ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1 of 2: collectives ok"), std::string::npos) << r.out;
}

// A rank that dies: torchrun stops the other at once and names the dead rank.
TEST(Dist, ADeadRankStopsTheOtherNamingIt) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = torchrun("die", "IMSM_DIST_TIMEOUT=30");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.code, 0);
  EXPECT_LT(seconds, 30) << "sooner than the collective timeout";
  EXPECT_NE((r.out + r.err).find("local_rank: 1 (pid"), std::string::npos) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("exitcode: 3"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("no error although"), std::string::npos) << r.out;
}

// A rank that hangs: the other's collective fails after IMSM_DIST_TIMEOUT
// with one line naming itself, the operation and the timeout; then torchrun
// stops the silent one. Never a silent hang.
TEST(Dist, AHungRankStopsTheOtherWithinTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = torchrun("hang", "IMSM_DIST_TIMEOUT=5");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.code, 0);
  EXPECT_LT(seconds, 60) << "the 5 s timeout, torchrun's start-up and its stop of rank 1";
  EXPECT_NE(r.out.find("rank 0 stopped after"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("rank 0 of 2: barrier failed: another process died or did not answer within 5 s"), std::string::npos) << r.out;
}

TEST(Dist, LaunchVariablesAreReadOrRefusedByName) {
  unsetenv("WORLD_SIZE");
  unsetenv("RANK");
  unsetenv("LOCAL_RANK");
  unsetenv("MASTER_ADDR");
  EXPECT_FALSE(imsm::dist::launch_from_environment().distributed());
  setenv("WORLD_SIZE", "4", 1);
  setenv("RANK", "3", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "10.0.0.2", 1);
  setenv("MASTER_PORT", "29555", 1);
  const auto l = imsm::dist::launch_from_environment();
  EXPECT_EQ(l.world_size, 4);
  EXPECT_EQ(l.rank, 3);
  EXPECT_EQ(l.local_rank, 1);
  EXPECT_EQ(l.master_addr, "10.0.0.2");
  EXPECT_EQ(l.master_port, 29555);
  EXPECT_FALSE(l.writer());
  setenv("RANK", "4", 1);
  imsm::testing::expect_bad_input([] { imsm::dist::launch_from_environment(); }, {"RANK", "outside [0, 3]"});
  setenv("RANK", "x", 1);
  imsm::testing::expect_bad_input([] { imsm::dist::launch_from_environment(); }, {"RANK", "\"x\""});
  setenv("RANK", "0", 1);
  unsetenv("MASTER_ADDR");
  imsm::testing::expect_bad_input([] { imsm::dist::launch_from_environment(); }, {"MASTER_ADDR", "torchrun"});
  for (const char* v : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_PORT"}) unsetenv(v);
}

}  // namespace
