// PreparePool: which pool the volumes live in, and how they are cloned (pool.h).
#include "volume-plugin/system/pool.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "common/file_util.h"
#include "common/log.h"
#include "common/size.h"
#include "common/spawn.h"
#include "common/unique_fd.h"
#include "volume-plugin/system/self_managed_pool.h"

namespace helix::vol {
namespace {

// mkfs.xfs refuses smaller filesystems.
constexpr uint64_t kMinSelfManagedSize = uint64_t{300} << 20;

// The name of the filesystem type holding `dir`, for messages.
std::string FsTypeOf(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) {
    return "unknown filesystem";
  }
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // ext2, ext3 and ext4 share it
      return "ext4";
    case XFS_SUPER_MAGIC:
      return "xfs";
    case BTRFS_SUPER_MAGIC:
      return "btrfs";
    case TMPFS_MAGIC:
      return "tmpfs";
    case OVERLAYFS_SUPER_MAGIC:
      return "overlayfs";
    default:
      break;
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(fs.f_type));
  return hex;
}

// A named temporary file in `dir`, unlinked at once: FICLONE needs only the
// descriptors, and a crash then leaves nothing behind.
Result<UniqueFd> AnonymousFile(const std::string& dir, const std::string& what) {
  std::string name = JoinPath(dir, ".reflink-probe-XXXXXX");
  UniqueFd fd(::mkostemp(name.data(), O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return SysError(what + ": create a file", err);
  }
  ::unlink(name.c_str());
  return fd;
}

Result<std::string> RealPath(const std::string& path) {
  std::unique_ptr<char, decltype(&::free)> real(::realpath(path.c_str(), nullptr), &::free);
  if (!real) {
    int err = errno;
    return SysError("resolve " + path, err);
  }
  return std::string(real.get());
}

Result<bool> Exists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return true;
  }
  int err = errno;
  if (err == ENOENT) {
    return false;
  }
  return SysError("stat " + path, err);
}

Result<PoolInfo> InStateDir(const std::string& state, CloneMethod method) {
  PoolInfo info{JoinPath(state, "volumes"), method, false, ""};
  HELIX_TRY(MakeDirs(info.volumes_dir));
  spdlog::info("pool: volumes in {}, cloned by {}", info.volumes_dir, CloneMethodName(method));
  return info;
}

}  // namespace

std::string_view CloneMethodName(CloneMethod m) {
  return m == CloneMethod::kReflink ? "reflink" : "copy";
}

Result<bool> CanReflink(const std::string& dir) {
  std::string what = "probe reflink in " + dir;
  HELIX_ASSIGN_OR_RETURN(auto src, AnonymousFile(dir, what));
  HELIX_ASSIGN_OR_RETURN(auto dst, AnonymousFile(dir, what));
  // Some filesystems clone an empty file without ever checking they could
  // share extents, so the probe needs a block of data, on disk.
  std::string block(4096, 'h');
  if (::write(src.get(), block.data(), block.size()) != static_cast<ssize_t>(block.size()) ||
      ::fsync(src.get()) != 0) {
    int err = errno;
    return SysError(what + ": write", err);
  }
  if (::ioctl(dst.get(), FICLONE, src.get()) == 0) {
    return true;
  }
  int err = errno;
  if (err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOTTY) {
    return false;
  }
  return SysError(what, err);
}

Result<PoolInfo> PreparePool(const PoolConfig& config, LoopDevices& loops, Mounter& mounter) {
  const std::string& mode = config.mode;
  if (mode != "auto" && mode != "reflink" && mode != "copy") {
    return InvalidArgument("setting POOL=\"" + mode + "\": must be one of auto, reflink, copy");
  }
  HELIX_TRY(MakeDirs(config.state_dir));
  // Mount targets are compared with /proc/self/mountinfo, which has no
  // symlinks in it.
  HELIX_ASSIGN_OR_RETURN(auto state, RealPath(config.state_dir));
  std::string image = JoinPath(state, "pool.img");
  HELIX_ASSIGN_OR_RETURN(auto have_image, Exists(image));
  if (have_image) {
    // Never switch away from an existing pool: the volumes live in it.
    if (mode != "auto") {
      return InvalidArgument("setting POOL=" + mode + ": " + image +
                             " holds a self-managed pool whose volumes this mode would not "
                             "see; use POOL=auto");
    }
    return OpenSelfManagedPool(state, image, loops, mounter);
  }
  if (mode == "copy") {
    return InStateDir(state, CloneMethod::kCopy);
  }
  std::string fstype = FsTypeOf(state);
  auto can = CanReflink(state);
  if (!can.ok() && can.error().kind() == ErrorKind::kNoSpace) {
    // A full pool must not keep the plugin from starting: deleting volumes
    // is how space comes back. Without room to probe, the type decides.
    std::string why = can.error().message();
    can = fstype == "xfs" || fstype == "btrfs";
    spdlog::warn("pool: {}; assuming {} {} reflink", why, fstype, *can ? "can" : "cannot");
  }
  if (!can.ok()) {
    return can.error();
  }
  if (*can) {
    return InStateDir(state, CloneMethod::kReflink);
  }
  if (mode == "auto") {
    // Volumes made before there was a pool (or under POOL=copy) live in
    // <state>/volumes: a new pool elsewhere would hide them from Docker.
    auto existing = ListDir(JoinPath(state, "volumes"));
    if (existing.ok() && !existing->empty()) {
      spdlog::warn(
          "pool: {}/volumes already holds volumes on {}, which cannot reflink: keeping them "
          "there, cloned by copy (POOL=copy says so explicitly)",
          state, fstype);
      return InStateDir(state, CloneMethod::kCopy);
    }
  }
  if (mode == "reflink") {
    return InvalidArgument("setting POOL=reflink: the state directory " + state + " (" + fstype +
                           ") cannot reflink; put it on XFS with reflink=1 or btrfs, or use "
                           "POOL=auto");
  }
  if (config.self_managed_size < kMinSelfManagedSize) {
    return InvalidArgument("setting POOL_SIZE=" + FormatSize(config.self_managed_size) +
                           ": the state directory " + state + " (" + fstype +
                           ") cannot reflink, so helixvol makes its own XFS pool there, which "
                           "needs at least " +
                           FormatSize(kMinSelfManagedSize));
  }
  spdlog::info("pool: the state directory {} ({}) cannot reflink: making a self-managed XFS pool",
               state, fstype);
  HELIX_TRY(CreatePoolImage(state, image, config.self_managed_size));
  return OpenSelfManagedPool(state, image, loops, mounter);
}

}  // namespace helix::vol
