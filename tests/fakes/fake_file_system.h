// A FileSystem for unit tests: the real files of the test's temporary
// directory (PosixFileSystem does the work, as leveldb's SpecialEnv wraps the
// real Env), with every call recorded and any call made to fail once:
//   fs.FailOnce("rename", ENOSPC, 2);  // the 2nd rename from now on
// A failed call does nothing, except "fsync": the file is written, then its
// fsync fails, as on a disk that filled up under the page cache.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "volume-plugin/system/file_system.h"

namespace helix::vol::testing {

class FakeFileSystem : public FileSystem {
 public:
  // The steps, as FailOnce and Count name them: mkdir, mkdirs, rmdir, unlink,
  // remove (a tree), rename, syncdir, list, read, write, fsync (of a file
  // written by WriteNewFile or MakeSparseFile), create (a sparse file),
  // grow, stat, allocated, used, trim, chown.
  void FailOnce(const std::string& step, int err, int nth = 1) {
    std::lock_guard lock(mu_);
    failures_[step] = {nth, err};
  }
  std::vector<std::string> Calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  size_t Count(const std::string& step) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& c : calls_) n += c == step || c.rfind(step + " ", 0) == 0;
    return n;
  }
  void ClearCalls() {
    std::lock_guard lock(mu_);
    calls_.clear();
  }

  Status MakeDir(const std::string& path, mode_t mode) override {
    if (int err = Step("mkdir " + path)) return SysError("create " + path, err);
    return real_.MakeDir(path, mode);
  }
  Status MakeDirs(const std::string& path, mode_t mode) override {
    if (int err = Step("mkdirs " + path)) return SysError("mkdir " + path, err);
    return real_.MakeDirs(path, mode);
  }
  Status RemoveDir(const std::string& path) override {
    if (int err = Step("rmdir " + path)) return SysError("remove " + path, err);
    return real_.RemoveDir(path);
  }
  Status RemoveFile(const std::string& path) override {
    if (int err = Step("unlink " + path)) return SysError("remove " + path, err);
    return real_.RemoveFile(path);
  }
  Status RemoveTree(const std::string& path) override {
    if (int err = Step("remove " + path)) return SysError("remove " + path, err);
    return real_.RemoveTree(path);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (int err = Step("rename " + from + " " + to)) {
      return SysError("rename " + from + " to " + to, err);
    }
    return real_.Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override {
    if (int err = Step("syncdir " + dir)) return SysError("fsync " + dir, err);
    return real_.SyncDir(dir);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    if (int err = Step("list " + dir)) return SysError("list " + dir, err);
    return real_.ListDir(dir);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    if (int err = Step("read " + path)) return SysError("open " + path, err);
    return real_.ReadFile(path);
  }
  Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                      const std::string& shown_as) override {
    if (int err = Step("write " + path)) return SysError("write " + shown_as, err);
    HELIX_TRY(real_.WriteNewFile(path, data, mode, shown_as));
    if (int err = Step("fsync " + path)) return SysError("fsync " + shown_as, err);
    return Ok();
  }
  Status MakeSparseFile(const std::string& path, uint64_t size) override {
    if (int err = Step("create " + path)) return SysError("create " + path, err);
    HELIX_TRY(real_.MakeSparseFile(path, size));
    if (int err = Step("fsync " + path)) return SysError("fsync " + path, err);
    return Ok();
  }
  Status Grow(const std::string& path, uint64_t size) override {
    if (int err = Step("grow " + path)) return SysError("grow " + path, err);
    return real_.Grow(path, size);
  }
  Result<FileId> IdOf(const std::string& path) override {
    if (int err = Step("stat " + path)) return SysError("stat " + path, err);
    return real_.IdOf(path);
  }
  Result<uint64_t> AllocatedBytes(const std::string& path) override {
    if (int err = Step("allocated " + path)) return SysError("stat " + path, err);
    return real_.AllocatedBytes(path);
  }
  Result<uint64_t> UsedBytes(const std::string& mountpoint) override {
    if (int err = Step("used " + mountpoint)) return SysError("statvfs " + mountpoint, err);
    return real_.UsedBytes(mountpoint);
  }
  Status Trim(const std::string& dir) override {
    // The unit tests' pool is a plain directory, with nothing to trim.
    if (int err = Step("trim " + dir)) return SysError("trim " + dir, err);
    return Ok();
  }
  // Recorded, not done: the unit tests do not run as root.
  Status SetOwner(const std::string& path, uint32_t uid, uint32_t gid) override {
    const std::string owner = std::to_string(uid) + ":" + std::to_string(gid);
    if (int err = Step("chown " + path + " " + owner)) {
      return SysError("chown " + path + " to " + owner, err);
    }
    std::lock_guard lock(mu_);
    owners_[path] = owner;
    return Ok();
  }
  // What SetOwner was last asked for `path`, "" if nothing.
  std::string OwnerOf(const std::string& path) {
    std::lock_guard lock(mu_);
    auto it = owners_.find(path);
    return it == owners_.end() ? "" : it->second;
  }

 private:
  // Records `call` ("rename A B"); returns the errno to fail it with, or 0.
  int Step(const std::string& call) {
    std::lock_guard lock(mu_);
    calls_.push_back(call);
    auto it = failures_.find(call.substr(0, call.find(' ')));
    if (it == failures_.end() || --it->second.first > 0) return 0;
    int err = it->second.second;
    failures_.erase(it);
    return err;
  }

  PosixFileSystem real_;
  std::mutex mu_;
  std::vector<std::string> calls_;
  std::map<std::string, std::string> owners_;
  std::map<std::string, std::pair<int, int>> failures_;  // step -> (calls to go, errno)
};

}  // namespace helix::vol::testing
