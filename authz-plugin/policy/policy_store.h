// PolicyStore: the policy in force, and its reloading.
//
// The policy file is reloaded when it changes (polled: editors replace files
// by rename, and a bind-mounted file's inode may change under a managed
// plugin, both of which inotify on the file would miss) and on SIGHUP. An
// edit that does not parse or validate keeps the last good policy and is
// logged with the exact reason; the next change is tried again.
#pragma once

#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <string>

#include "authz-plugin/policy/policy.h"
#include "common/result.h"

namespace helix::authz {

class PolicyStore {
 public:
  explicit PolicyStore(std::string path) : path_(std::move(path)) {}

  // The first load: unlike a reload, a failure here is fatal to the caller.
  Status Load();

  // The policy decisions use now. Never null after a successful Load().
  std::shared_ptr<const Policy> Current() const;

  // Reloads if the file looks different from the last attempt (or always,
  // with force: SIGHUP). Returns true when a new policy took effect.
  bool ReloadIfChanged(bool force = false);

  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{};
    bool operator==(const Stamp& o) const {
      return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
             mtime.tv_nsec == o.mtime.tv_nsec;
    }
  };
  Stamp Look() const;

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> current_;  // guarded by mu_
  Stamp tried_;                            // guarded by mu_: the file last attempted
};

}  // namespace helix::authz
