// One helixvol per state directory. Two processes on one state directory
// undo each other's work: the second mounts an exclusive data root the first
// already gave a container, and its failed Mount rewrites a meta.json the
// first relies on at its next start. The owner holds an exclusive flock on
// <state-dir>/helixvol.lock for its whole life; the kernel releases it when
// the process dies however it dies, so a kill -9 leaves nothing to clean up.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace helix::vol {

class StateLock {
 public:
  // Creates `state_dir` if missing and takes its lock without waiting. A
  // directory another process holds is a kBusy error naming that process:
  // state directory /var/lib/helixvol is in use by another helixvol (pid
  // 1234); one helixvol per state directory. The PID is the one the owner
  // saw for itself, which inside a managed plugin is its own namespace's.
  static Result<StateLock> Acquire(const std::string& state_dir);

 private:
  explicit StateLock(UniqueFd fd) : fd_(std::move(fd)) {}
  // Open for the life of the process, close-on-exec so that no tool
  // helixvol runs (mkfs.ext4, e2fsck) keeps the lock after it dies.
  UniqueFd fd_;
};

}  // namespace helix::vol
