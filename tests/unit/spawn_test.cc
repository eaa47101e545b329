#include "common/spawn.h"

#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

namespace helix {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The library never uses a shell; the tests do, only to make a child that
// writes to both streams and exits as told.
std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

TEST_CASE("Run captures stdout, stderr and the exit code", "[common]") {
  auto r = Run(Sh("echo out; echo err >&2; exit 3"), seconds(10));
  REQUIRE(r.ok());
  CHECK(r->out == "out\n");
  CHECK(r->err == "err\n");
  CHECK(r->exit_code == 3);
}

TEST_CASE("Run passes arguments without a shell", "[common]") {
  auto r = Run({"printf", "%s|", "a b", "$HOME", ";"}, seconds(10));
  REQUIRE(r.ok());
  CHECK(r->out == "a b|$HOME|;|");
  CHECK(r->exit_code == 0);
}

TEST_CASE("Run gives the child an empty stdin", "[common]") {
  auto r = Run({"cat"}, seconds(10));
  REQUIRE(r.ok());
  CHECK(r->out.empty());
  CHECK(r->exit_code == 0);
}

TEST_CASE("Run reports death by signal as 128 plus the signal", "[common]") {
  auto r = Run(Sh("kill -TERM $$"), seconds(10));
  REQUIRE(r.ok());
  CHECK(r->exit_code == 128 + 15);
}

TEST_CASE("Run keeps at most 1 MiB of output and still drains the rest", "[common]") {
  // 2 MiB would fill the pipe and hang the child if Run stopped reading.
  auto r = Run({"head", "-c", "2097152", "/dev/zero"}, seconds(20));
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out.size() == 1048576);
}

TEST_CASE("Run does not wait for a grandchild holding the pipes open", "[common]") {
  auto start = std::chrono::steady_clock::now();
  auto r = Run(Sh("sleep 10 & echo done"), seconds(8));
  REQUIRE(r.ok());
  CHECK(r->out == "done\n");
  CHECK(std::chrono::steady_clock::now() - start < seconds(5));
}

TEST_CASE("Run from many threads keeps each child's output apart", "[common]") {
  std::vector<std::thread> threads;
  std::atomic<int> good = 0;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &good] {
      for (int round = 0; round < 5; ++round) {
        auto r = Run({"echo", std::to_string(i)}, seconds(20));
        good += r.ok() && r->out == std::to_string(i) + "\n" ? 1 : 0;
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  CHECK(good == 40);
}

TEST_CASE("Run kills a child that outlives its timeout", "[common]") {
  auto start = std::chrono::steady_clock::now();
  auto r = Run({"sleep", "10"}, milliseconds(200));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kTimeout);
  CHECK(r.error().message() == "\"sleep 10\" timed out after 200ms");
  CHECK(std::chrono::steady_clock::now() - start < seconds(5));
}

// True once `pid` is gone or a zombie nobody has reaped yet.
bool Dead(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(stat, line)) {
    return true;
  }
  size_t paren = line.rfind(')');
  return paren != std::string::npos && line.compare(paren, 3, ") Z") == 0;
}

TEST_CASE("Run on timeout also kills what the child started", "[common]") {
  char tmpl[] = "/tmp/helix-spawn-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  ::close(fd);
  const std::string pid_file = tmpl;
  auto r = Run(Sh("sleep 10 & echo $! > " + pid_file + "; wait"), milliseconds(300));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kTimeout);
  std::string pid;
  std::ifstream(pid_file) >> pid;
  ::unlink(pid_file.c_str());
  REQUIRE_FALSE(pid.empty());
  auto give_up = std::chrono::steady_clock::now() + seconds(5);
  while (!Dead(pid) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  CHECK(Dead(pid));
}

TEST_CASE("Run refuses a program that does not exist, naming it", "[common]") {
  auto r = Run({"helix-no-such-program", "--flag"}, seconds(10));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().sys_errno() == ENOENT);
  CHECK(r.error().message() == "run helix-no-such-program: No such file or directory");
}

TEST_CASE("Run refuses an empty argument vector", "[common]") {
  auto r = Run({}, seconds(10));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(r.error().message() == "run: empty argument vector");
}

TEST_CASE("RunChecked passes a successful run through", "[common]") {
  auto r = RunChecked(Sh("echo fine"), seconds(10));
  REQUIRE(r.ok());
  CHECK(r->out == "fine\n");
}

TEST_CASE("RunChecked quotes the command and the last line of stderr", "[common]") {
  auto r = RunChecked(Sh("echo progress >&2; echo '  bad superblock  ' >&2; echo >&2; exit 8"),
                      seconds(10));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kSystem);
  CHECK(r.error().message() ==
        "\"/bin/sh -c echo progress >&2; echo '  bad superblock  ' >&2; echo >&2; exit 8\" "
        "exited with status 8: bad superblock");
}

TEST_CASE("RunChecked leaves the reason out when stderr is empty", "[common]") {
  auto r = RunChecked({"false"}, seconds(10));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "\"false\" exited with status 1");
}

TEST_CASE("RunChecked passes a timeout through as kTimeout", "[common]") {
  auto r = RunChecked({"sleep", "10"}, milliseconds(100));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kTimeout);
}

}  // namespace
}  // namespace helix
