// The pool's files behind a narrow interface, as the kernel's loop devices and
// mounts are behind system.h: every step that crash safety rests on (mkdir,
// writing and fsyncing meta.json, renaming a half-made volume into place,
// fsyncing the directory, removal) goes through here, so unit tests can fail
// any one of them (tests/fakes/fake_file_system.h) and check what is left.
// (leveldb's Env, ninja's DiskInterface.) PosixFileSystem is the real one,
// tested against the kernel in tests/system/file_system_test.cc.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_util.h"
#include "common/result.h"

namespace helix::vol {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // mkdir: one directory, which must not exist yet.
  virtual Status MakeDir(const std::string& path, mode_t mode) = 0;
  // mkdir -p; existing directories are fine.
  virtual Status MakeDirs(const std::string& path, mode_t mode) = 0;
  // rmdir: only an empty directory that is no mount point goes.
  virtual Status RemoveDir(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // rm -rf that never crosses into another filesystem (RemoveTree).
  virtual Status RemoveTree(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync of a directory, so that a rename or removal in it is durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Entry names, sorted, "." and ".." left out.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Creates `path`, which must not exist, holding `data`, and fsyncs it.
  // Errors name `shown_as` (the file the caller means, not a temporary name).
  virtual Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                              const std::string& shown_as) = 0;
  // Creates `path`, which must not exist, as a sparse file of `size` bytes.
  virtual Status MakeSparseFile(const std::string& path, uint64_t size) = 0;
  // Enlarges the file at `path` to `size` bytes (the new part sparse).
  virtual Status Grow(const std::string& path, uint64_t size) = 0;
  virtual Result<FileId> IdOf(const std::string& path) = 0;
  // The bytes the file's blocks take on disk (st_blocks).
  virtual Result<uint64_t> AllocatedBytes(const std::string& path) = 0;
  // The bytes in use on the filesystem mounted at `mountpoint` (statvfs).
  virtual Result<uint64_t> UsedBytes(const std::string& mountpoint) = 0;
  // Gives the space freed in the filesystem at `dir` back to the layer under
  // it (TrimFreeSpace in pool_space.h).
  virtual Status Trim(const std::string& dir) = 0;
  // lchown of `path` to uid:gid, only when it is not theirs already.
  virtual Status SetOwner(const std::string& path, uint32_t uid, uint32_t gid) = 0;
};

// Writes `data` to `path` through `fs` so that a crash at any moment leaves
// the old file or the new one (common/atomic_write.h).
Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view data);

// The real files, through the helpers in common/file_util.h.
class PosixFileSystem : public FileSystem {
 public:
  Status MakeDir(const std::string& path, mode_t mode) override;
  Status MakeDirs(const std::string& path, mode_t mode) override;
  Status RemoveDir(const std::string& path) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveTree(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                      const std::string& shown_as) override;
  Status MakeSparseFile(const std::string& path, uint64_t size) override;
  Status Grow(const std::string& path, uint64_t size) override;
  Result<FileId> IdOf(const std::string& path) override;
  Result<uint64_t> AllocatedBytes(const std::string& path) override;
  Result<uint64_t> UsedBytes(const std::string& mountpoint) override;
  Status Trim(const std::string& dir) override;
  Status SetOwner(const std::string& path, uint32_t uid, uint32_t gid) override;
};

}  // namespace helix::vol
