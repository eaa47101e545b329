// Small filesystem helpers whose failures name the path they touched.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace helix {

// Writes `data` to `path` so that a crash at any moment leaves either the old
// file or the new one: write a temporary file beside it, fsync, rename over
// `path`, fsync the directory (the recipe is common/atomic_write.h).
Status AtomicWriteFile(const std::string& path, const std::string& data, mode_t mode = 0644);

// The steps of that recipe. WriteNewFile creates `path`, which must not
// exist, writes `data` and fsyncs it; its errors name `shown_as`.
Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                    const std::string& shown_as);
Status Rename(const std::string& from, const std::string& to);
Status RemoveFile(const std::string& path);
// The name AtomicWriteFile gives its temporary file for `base` (a file name
// without directory), followed by random characters: ".meta.json.tmp-".
std::string AtomicTempPrefix(const std::string& base);

// Splits "/a/b/c" into "/a/b" and "c"; a bare name lives in ".".
std::pair<std::string, std::string> SplitPath(const std::string& path);

// Writes all of `data` to `fd`, through EINTR and short writes; `what`
// names the file or stream in the error. On a socket a peer that went away
// is an error (EPIPE), not a SIGPIPE.
Status WriteAll(int fd, std::string_view data, const std::string& what);

Result<std::string> ReadFile(const std::string& path);

// fsync on a directory, so a rename or unlink inside it is durable.
Status FsyncDir(const std::string& dir);

// mkdir -p; existing directories are fine.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// rm -rf that never crosses into another filesystem: a mount point found
// inside `path` makes it fail with EBUSY rather than delete what is mounted.
Status RemoveTree(const std::string& path);

// Names of the entries of `dir` ("." and ".." left out).
Result<std::vector<std::string>> ListDir(const std::string& dir);

// Bytes free for an unprivileged writer on the filesystem holding `path`.
Result<uint64_t> FreeBytes(const std::string& path);

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};
Result<FileId> IdOf(const std::string& path);

std::string JoinPath(const std::string& a, const std::string& b);

}  // namespace helix
