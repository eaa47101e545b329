// The recipe by which a file is replaced so that a crash at any moment leaves
// either the old content or the new: write a temporary file beside it, fsync
// it, rename it over the file, fsync the directory. Written once, over any set
// of file operations: AtomicWriteFile (file_util.h) runs it on the real files,
// helixvol over its FileSystem interface, so that unit tests can fail each
// step and see what is left.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/file_util.h"
#include "common/result.h"
#include "common/strings.h"

namespace helix {

// `files` offers, as the real ones in file_util.h do:
//   Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
//                       const std::string& shown_as);
//   Status Rename(const std::string& from, const std::string& to);
//   Status RemoveFile(const std::string& path);
//   Status SyncDir(const std::string& dir);
// A failure names `path` and the step; the temporary file is removed.
template <typename Files>
Status AtomicWriteWith(Files& files, const std::string& path, std::string_view data, mode_t mode) {
  auto [dir, base] = SplitPath(path);
  if (base.empty()) {
    return InvalidArgument("write " + path + ": not a file name");
  }
  std::string tmp = JoinPath(dir, AtomicTempPrefix(base) + RandomHex(12));
  // Errors name `path`: the temporary name would only confuse.
  Status s = files.WriteNewFile(tmp, data, mode, path);
  if (s.ok()) {
    s = files.Rename(tmp, path);
  }
  if (!s.ok()) {
    (void)files.RemoveFile(tmp);
    return s;
  }
  return files.SyncDir(dir);
}

}  // namespace helix
