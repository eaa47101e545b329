#include "common/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/atomic_write.h"
#include "common/unique_fd.h"

namespace helix {
namespace {

// The entry names of the directory open as `fd`, which stays open: readdir
// reads through a duplicate, since fdopendir takes over what it is given.
Result<std::vector<std::string>> NamesIn(int fd, const std::string& path) {
  int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) {
    return HELIX_SYS_ERROR("list " + path);
  }
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int err = errno;
    ::close(dup);
    return SysError("list " + path, err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(std::move(name));
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    return SysError("list " + path, err);
  }
  return names;
}

bool OnOtherMount(const struct statx& a, const struct statx& b) {
  return a.stx_dev_major != b.stx_dev_major || a.stx_dev_minor != b.stx_dev_minor ||
         ((a.stx_mask & b.stx_mask & STATX_MNT_ID) != 0 && a.stx_mnt_id != b.stx_mnt_id);
}

// Empties the directory open as `dir` (whose path is `path`, for messages).
// Directories below are entered only through openat(O_NOFOLLOW), so a
// symlink is removed as a link and never followed; one on another mount
// (different st_dev or mount id than the tree's root) stops everything.
Status RemoveContents(int dir, const std::string& path, const struct statx& root) {
  HELIX_ASSIGN_OR_RETURN(auto names, NamesIn(dir, path));
  for (const std::string& name : names) {
    std::string child = JoinPath(path, name);
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) {
        continue;  // someone else removed it: fine for rm -rf
      }
      return HELIX_SYS_ERROR("stat " + child);
    }
    if (!S_ISDIR(st.st_mode)) {
      if (::unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT) {
        return HELIX_SYS_ERROR("remove " + child);
      }
      continue;
    }
    UniqueFd sub(::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub.valid()) {
      return HELIX_SYS_ERROR("open " + child);
    }
    // Checked on the opened descriptor, so a rename in between cannot slip
    // another filesystem in. A bind mount of the same filesystem keeps
    // st_dev, which is why the mount id is compared too.
    struct statx sx;
    if (::statx(sub.get(), "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0) {
      return HELIX_SYS_ERROR("stat " + child);
    }
    if (OnOtherMount(sx, root)) {
      return SysError("remove " + child, EBUSY);
    }
    HELIX_TRY(RemoveContents(sub.get(), child, root));
    if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
      return HELIX_SYS_ERROR("remove " + child);
    }
  }
  return Ok();
}

}  // namespace

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    // send() for a socket, so a peer that went away is EPIPE, not SIGPIPE.
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) {
      n = ::write(fd, data.data() + done, data.size() - done);
    }
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return HELIX_SYS_ERROR("write " + what);
    }
    if (n == 0) {
      return SysError("write " + what, EIO);
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return {".", path};
  }
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string AtomicTempPrefix(const std::string& base) { return "." + base + ".tmp-"; }

Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                    const std::string& shown_as) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("write " + shown_as);
  }
  HELIX_TRY(WriteAll(fd.get(), data, shown_as));
  if (::fsync(fd.get()) < 0) {
    return HELIX_SYS_ERROR("fsync " + shown_as);
  }
  if (::close(fd.Release()) < 0) {
    return HELIX_SYS_ERROR("write " + shown_as);  // NFS and friends report write errors here
  }
  return Ok();
}

Status Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) < 0) {
    return HELIX_SYS_ERROR("rename " + from + " to " + to);
  }
  return Ok();
}

Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) < 0) {
    return HELIX_SYS_ERROR("remove " + path);
  }
  return Ok();
}

namespace {

// The real files, as AtomicWriteWith wants them.
struct RealFiles {
  Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                      const std::string& shown_as) {
    return helix::WriteNewFile(path, data, mode, shown_as);
  }
  Status Rename(const std::string& from, const std::string& to) { return helix::Rename(from, to); }
  Status RemoveFile(const std::string& path) { return helix::RemoveFile(path); }
  Status SyncDir(const std::string& dir) { return FsyncDir(dir); }
};

}  // namespace

Status AtomicWriteFile(const std::string& path, const std::string& data, mode_t mode) {
  RealFiles files;
  return AtomicWriteWith(files, path, data, mode);
}

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("open " + path);
  }
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return HELIX_SYS_ERROR("read " + path);
    }
    if (n == 0) {
      return data;
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

Status FsyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("open " + dir);
  }
  if (::fsync(fd.get()) < 0) {
    return HELIX_SYS_ERROR("fsync " + dir);
  }
  return Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return InvalidArgument("mkdir: empty path");
  }
  // Create each prefix in turn; "/a//b/" is the same as "/a/b".
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix.back() == '/') {
      continue;
    }
    if (::mkdir(prefix.c_str(), mode) == 0) {
      continue;
    }
    int err = errno;
    struct stat st;
    if (err == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return SysError("mkdir " + prefix, ENOTDIR);
      }
      continue;
    }
    return SysError("mkdir " + prefix, err);
  }
  return Ok();
}

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) {
      return Ok();  // rm -rf: already gone is success
    }
    return HELIX_SYS_ERROR("stat " + path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
      return HELIX_SYS_ERROR("remove " + path);
    }
    return Ok();
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("open " + path);
  }
  struct statx root;
  struct statx parent;
  if (::statx(fd.get(), "", AT_EMPTY_PATH, STATX_MNT_ID, &root) < 0 ||
      ::statx(fd.get(), "..", AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &parent) < 0) {
    return HELIX_SYS_ERROR("stat " + path);
  }
  // `path` itself mounted on (a volume still mounted where it is being
  // removed): emptying it would wipe the mounted filesystem.
  if (OnOtherMount(root, parent)) {
    return SysError("remove " + path, EBUSY);
  }
  HELIX_TRY(RemoveContents(fd.get(), path, root));
  fd.Reset();
  if (::rmdir(path.c_str()) < 0 && errno != ENOENT) {
    return HELIX_SYS_ERROR("remove " + path);
  }
  return Ok();
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("list " + dir);
  }
  auto names = NamesIn(fd.get(), dir);
  if (names) {
    // Sorted so that callers and logs see the same order on every run.
    std::sort(names->begin(), names->end());
  }
  return names;
}

Result<uint64_t> FreeBytes(const std::string& path) {
  struct statvfs vfs;
  if (::statvfs(path.c_str(), &vfs) < 0) {
    return HELIX_SYS_ERROR("statvfs " + path);
  }
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

Result<FileId> IdOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) {
    return HELIX_SYS_ERROR("stat " + path);
  }
  return FileId{st.st_dev, st.st_ino};
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) {
    return b;
  }
  if (b.empty()) {
    return a;
  }
  size_t end = a.find_last_not_of('/');
  std::string joined = end == std::string::npos ? "" : a.substr(0, end + 1);
  size_t start = b.find_first_not_of('/');
  joined += '/';
  if (start != std::string::npos) {
    joined += b.substr(start);
  }
  return joined;
}

}  // namespace helix
