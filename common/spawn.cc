#include "common/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace helix {
namespace {

constexpr size_t kMaxCapture = 1 << 20;

std::string Joined(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) {
    s += s.empty() ? "" : " ";
    s += a;
  }
  return s;
}

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

int ExitCode(int status) {
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}

// Reads what is available from `fd` into `into` (keeping at most
// kMaxCapture bytes, draining the rest so the child never blocks on a full
// pipe). Returns false at end of file or on error.
bool ReadSome(int fd, std::string& into) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      size_t keep = std::min(static_cast<size_t>(n), kMaxCapture - into.size());
      into.append(buf, keep);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    return n < 0 && errno == EAGAIN;
  }
}

void Reap(pid_t pid, int* status) {
  while (::waitpid(pid, status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<ProcessResult> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  if (argv.empty()) {
    return InvalidArgument("run: empty argument vector");
  }
  const std::string name = Joined(argv);
  // O_CLOEXEC so that a tool spawned at the same time from another thread
  // cannot inherit our write ends and hold our pipes open.
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) < 0) {
    return HELIX_SYS_ERROR("run " + argv[0]);
  }
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) < 0) {
    return HELIX_SYS_ERROR("run " + argv[0]);
  }
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);
  // Non-blocking read ends let us drain them once the child has exited
  // without waiting for grandchildren that may still hold the write ends.
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, err_w.get(), 2);
  // The child starts with no blocked signals and default dispositions,
  // whatever the calling thread had blocked or the process ignores. It leads
  // its own process group, so a timeout kills whatever it started too.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), environ);
  if (rc != 0) {
    return SysError("run " + argv[0], rc);  // posix_spawnp returns the errno
  }
  out_w.Reset();
  err_w.Reset();

  // A pidfd tells poll() when the child exits; without one (old kernels)
  // poll wakes up every 50 ms to ask waitpid.
  // (The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C".)
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ProcessResult result;
  int status = 0;
  bool exited = false;
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-pid, SIGKILL);
      Reap(pid, &status);
      return Error(ErrorKind::kTimeout,
                   "\"" + name + "\" timed out after " + std::to_string(timeout.count()) + "ms");
    }
    pollfd fds[3] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    int wait_ms = static_cast<int>(std::min<int64_t>(left.count(), pidfd.valid() ? 60000 : 50));
    if (::poll(fds, 3, wait_ms) < 0 && errno != EINTR) {
      int err = errno;
      ::kill(pid, SIGKILL);
      Reap(pid, &status);
      return SysError("wait for " + argv[0], err);
    }
    if (fds[0].revents != 0 && !ReadSome(out_r.get(), result.out)) {
      out_r.Reset();  // poll ignores negative descriptors
    }
    if (fds[1].revents != 0 && !ReadSome(err_r.get(), result.err)) {
      err_r.Reset();
    }
    if (!pidfd.valid() || fds[2].revents != 0) {
      pid_t done;
      while ((done = ::waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR) {
      }
      if (done < 0) {
        // Only if someone else reaped our child (SIGCHLD ignored): nothing
        // left to wait for, and no status to report.
        return HELIX_SYS_ERROR("wait for " + argv[0]);
      }
      exited = done == pid;
    }
  }
  // Everything the child wrote is in the pipes by now.
  if (out_r.valid()) {
    ReadSome(out_r.get(), result.out);
  }
  if (err_r.valid()) {
    ReadSome(err_r.get(), result.err);
  }
  result.exit_code = ExitCode(status);
  return result;
}

Result<ProcessResult> RunChecked(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) {
  auto result = Run(argv, timeout);
  if (!result || result->exit_code == 0) {
    return result;
  }
  std::string message =
      "\"" + Joined(argv) + "\" exited with status " + std::to_string(result->exit_code);
  // Tools put the reason last; earlier lines are usually progress chatter.
  const std::string& err = result->err;
  size_t end = err.find_last_not_of(" \t\r\n");
  if (end != std::string::npos) {
    size_t start = err.find_last_of('\n', end);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = err.substr(start, end + 1 - start);
    line.erase(0, line.find_first_not_of(" \t"));
    message += ": " + line;
  }
  return Error(ErrorKind::kSystem, message);
}

}  // namespace helix
