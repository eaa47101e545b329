// PosixFileSystem: the FileSystem interface on the real files, mostly through
// common/file_util.h, whose errors name the path they touched.
#include "volume-plugin/system/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/atomic_write.h"
#include "common/size.h"
#include "common/unique_fd.h"
#include "volume-plugin/system/pool_space.h"

namespace helix::vol {

Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view data) {
  return AtomicWriteWith(fs, path, data, 0644);
}

Status PosixFileSystem::MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    return HELIX_SYS_ERROR("create " + path);
  }
  return Ok();
}

Status PosixFileSystem::MakeDirs(const std::string& path, mode_t mode) {
  return helix::MakeDirs(path, mode);
}

Status PosixFileSystem::RemoveDir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0) {
    return HELIX_SYS_ERROR("remove " + path);
  }
  return Ok();
}

Status PosixFileSystem::RemoveFile(const std::string& path) { return helix::RemoveFile(path); }

Status PosixFileSystem::RemoveTree(const std::string& path) { return helix::RemoveTree(path); }

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  return helix::Rename(from, to);
}

Status PosixFileSystem::SyncDir(const std::string& dir) { return FsyncDir(dir); }

Result<std::vector<std::string>> PosixFileSystem::ListDir(const std::string& dir) {
  return helix::ListDir(dir);
}

Result<std::string> PosixFileSystem::ReadFile(const std::string& path) {
  return helix::ReadFile(path);
}

Status PosixFileSystem::WriteNewFile(const std::string& path, std::string_view data, mode_t mode,
                                     const std::string& shown_as) {
  return helix::WriteNewFile(path, data, mode, shown_as);
}

Status PosixFileSystem::MakeSparseFile(const std::string& path, uint64_t size) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("create " + path);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return HELIX_SYS_ERROR("size " + path + " to " + FormatSize(size));
  }
  if (::fsync(fd.get()) != 0) {
    return HELIX_SYS_ERROR("fsync " + path);
  }
  return Ok();
}

Status PosixFileSystem::Grow(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    return HELIX_SYS_ERROR("grow " + path + " to " + FormatSize(size));
  }
  return Ok();
}

Result<FileId> PosixFileSystem::IdOf(const std::string& path) { return helix::IdOf(path); }

Result<uint64_t> PosixFileSystem::AllocatedBytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return HELIX_SYS_ERROR("stat " + path);
  }
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

Result<uint64_t> PosixFileSystem::UsedBytes(const std::string& mountpoint) {
  struct statvfs vfs {};
  if (::statvfs(mountpoint.c_str(), &vfs) != 0) {
    return HELIX_SYS_ERROR("statvfs " + mountpoint);
  }
  return static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
}

Status PosixFileSystem::Trim(const std::string& dir) { return TrimFreeSpace(dir); }

Status PosixFileSystem::SetOwner(const std::string& path, uint32_t uid, uint32_t gid) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return HELIX_SYS_ERROR("stat " + path);
  }
  if (st.st_uid == uid && st.st_gid == gid) {
    return Ok();
  }
  if (::lchown(path.c_str(), uid, gid) != 0) {
    return HELIX_SYS_ERROR("chown " + path + " to " + std::to_string(uid) + ":" +
                           std::to_string(gid));
  }
  return Ok();
}

}  // namespace helix::vol
