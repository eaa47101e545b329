// Runs a tool (mkfs.ext4, resize2fs, ...) with an argument vector, never
// through a shell, so no name or option can become a command.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/result.h"

namespace helix {

struct ProcessResult {
  int exit_code = 0;  // 128 + signal number when killed by a signal
  std::string out;    // captured stdout, at most 1 MiB kept
  std::string err;    // captured stderr, at most 1 MiB kept
};

// Runs argv[0] (looked up in PATH) with argv, stdin from /dev/null, and waits
// at most `timeout`; past it the child is killed (SIGKILL) and the result is a
// kTimeout error. Failing to start is an error; a non-zero exit is not (the
// caller decides), see RunChecked for that.
Result<ProcessResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Like Run, but a non-zero exit is a kSystem error whose message is
// "<argv joined> exited with status N: <last line of stderr>".
Result<ProcessResult> RunChecked(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout);

}  // namespace helix
