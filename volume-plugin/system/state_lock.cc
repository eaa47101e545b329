// StateLock: one helixvol per state directory, by flock (state_lock.h).
#include "volume-plugin/system/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/file_util.h"
#include "common/log.h"

namespace helix::vol {

Result<StateLock> StateLock::Acquire(const std::string& state_dir) {
  HELIX_TRY(MakeDirs(state_dir));
  const std::string path = JoinPath(state_dir, "helixvol.lock");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("lock the state directory: open " + path);
  }
  // flock, not fcntl locks: those belong to the process and vanish when any
  // descriptor of the file is closed, by any thread.
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK) {
      return SysError("lock the state directory: flock " + path, err);
    }
    auto owner = ReadFile(path);
    std::string pid = owner.ok() ? owner->substr(0, owner->find('\n')) : "";
    return Busy("state directory " + state_dir + " is in use by another helixvol (" +
                (pid.empty() ? std::string("its PID is not recorded") : "pid " + pid) +
                "); one helixvol per state directory");
  }
  // Only for the message above: the lock itself is what excludes, so a full
  // disk that keeps the PID out must not keep helixvol from starting.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    spdlog::warn("state directory {}: record the PID in {}: {}", state_dir, path,
                 std::strerror(errno));
  }
  return StateLock(std::move(fd));
}

}  // namespace helix::vol
