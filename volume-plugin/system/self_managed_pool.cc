// The self-managed XFS pool: made, mounted, found again (self_managed_pool.h).
#include "volume-plugin/system/self_managed_pool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/file_util.h"
#include "common/log.h"
#include "common/size.h"
#include "common/spawn.h"
#include "common/unique_fd.h"

namespace helix::vol {
namespace {

// No online discard on the pool itself: removing a large volume then sends
// its discards through the loop device as hole punches in pool.img, and the
// next clone waits behind them (bench: a 4 GiB clone right after big
// removals took 0.92-1.04 s with it, 0.13-0.26 s without). Freed pool blocks
// stay allocated in pool.img and are reused by the next volumes; `fstrim
// <state-dir>/pool` gives them back to the host. (Volumes keep `discard`:
// theirs punch holes in their own disk.img, inside the pool.) Nothing in the
// pool is a device node or a setuid program.
constexpr char kPoolMountOptions[] = "noatime,nodev,nosuid";
// A loop device found bound to pool.img can be unbound (its last user gone)
// before we hold it; a few fresh looks are plenty for that race.
constexpr int kMountAttempts = 3;

// Whether `device` is (still) the loop device bound to `id`.
Result<bool> BoundTo(LoopDevices& loops, FileId id, const std::string& device) {
  HELIX_ASSIGN_OR_RETURN(auto bound, loops.FindByBacking(id));
  return bound.has_value() && bound->device == device;
}

// Mounts pool.img at `target`, or finds it mounted there, and returns its
// loop device. One XFS image must never be bound to two loop devices: two
// superblocks on one filesystem corrupt it. So a device already bound to the
// image is always preferred, and the image is flocked while we look, against
// a second plugin starting on the same state directory.
Result<std::string> MountPool(const std::string& image, const std::string& target,
                              LoopDevices& loops, Mounter& mounter) {
  std::string what = "mount the pool " + image + " on " + target;
  UniqueFd lock(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
    int err = errno;
    return SysError(what + ": lock " + image, err);
  }
  auto id = IdOf(image);
  if (!id.ok()) {
    return id.error().Wrap(what);
  }
  for (int attempt = 0; attempt < kMountAttempts; ++attempt) {
    auto mounts = mounter.List();
    if (!mounts.ok()) {
      return mounts.error().Wrap(what);
    }
    const MountEntry* current = nullptr;  // the topmost mount on target
    for (const MountEntry& e : *mounts) {
      if (e.target == target) {
        current = &e;
      }
    }
    if (current != nullptr) {
      auto ours = BoundTo(loops, *id, current->source);
      if (!ours.ok()) {
        return ours.error().Wrap(what);
      }
      if (!*ours) {
        return Busy(what + ": " + target + " is already mounted from " + current->source +
                    ", which is not bound to " + image);
      }
      spdlog::info("pool: {} is already mounted from {}", target, current->source);
      return current->source;
    }
    auto bound = loops.FindByBacking(*id);
    if (!bound.ok()) {
      return bound.error().Wrap(what);
    }
    if (!bound->has_value()) {
      auto loop = loops.Attach(image, /*read_only=*/false);
      if (!loop.ok()) {
        return loop.error().Wrap(what);
      }
      // loop->fd keeps the autoclear device bound until the mount holds it.
      if (Status m = mounter.Mount(loop->device, target, "xfs", kPoolMountOptions); !m.ok()) {
        return m.error().Wrap(what);
      }
      spdlog::info("pool: mounted {} from {}", target, loop->device);
      return loop->device;
    }
    // Still bound without a mount here: after a kill -9 the volumes' loop
    // devices keep the pool's filesystem alive. Mounting the same device
    // again gives back that same live filesystem. Holding the device open
    // stops autoclear from unbinding it between the check and the mount.
    std::string device = (*bound)->device;
    UniqueFd hold(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
    auto still = BoundTo(loops, *id, device);
    if (!still.ok()) {
      return still.error().Wrap(what);
    }
    if (!hold.valid() || !*still) {
      continue;
    }
    if (Status m = mounter.Mount(device, target, "xfs", kPoolMountOptions); !m.ok()) {
      return m.error().Wrap(what);
    }
    spdlog::info("pool: mounted {} from {}, which was still bound to {}", target, device, image);
    return device;
  }
  return Busy(what + ": the loop device bound to it kept going away");
}

}  // namespace

Status MakeXfs(const std::string& image) {
  // reflink=1 is what the pool is for: clones that share extents.
  auto r = RunChecked({"mkfs.xfs", "-q", "-f", "-m", "reflink=1", image}, std::chrono::minutes(2));
  if (!r.ok()) {
    return r.error().Wrap("format " + image + " as xfs");
  }
  return Ok();
}

Status CreatePoolImage(const std::string& state, const std::string& image, uint64_t size) {
  std::string tmp = JoinPath(state, ".pool.img.tmp");
  std::string what = "create the pool image " + image;
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    int err = errno;
    return SysError(what + ": remove " + tmp, err);
  }
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    int err = errno;
    return SysError(what + ": create " + tmp, err);
  }
  auto fail = [&](Error e) -> Status {
    ::unlink(tmp.c_str());
    return e;
  };
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    int err = errno;
    return fail(SysError(what + ": size " + tmp, err));
  }
  if (Status made = MakeXfs(tmp); !made.ok()) {
    return fail(made.error().Wrap(what));
  }
  if (::fsync(fd.get()) != 0) {
    int err = errno;
    return fail(SysError(what + ": fsync " + tmp, err));
  }
  if (::rename(tmp.c_str(), image.c_str()) != 0) {
    int err = errno;
    return fail(SysError(what + ": rename " + tmp, err));
  }
  HELIX_TRY(FsyncDir(state));
  auto free_bytes = FreeBytes(state);
  if (free_bytes.ok() && *free_bytes < size) {
    spdlog::warn("pool: {} is {} but its filesystem has {} free: the host disk fills first", image,
                 FormatSize(size), FormatSize(*free_bytes));
  }
  spdlog::info("pool: made a {} XFS pool image {}", FormatSize(size), image);
  return Ok();
}

Result<PoolInfo> OpenSelfManagedPool(const std::string& state, const std::string& image,
                                     LoopDevices& loops, Mounter& mounter) {
  std::string target = JoinPath(state, "pool");
  HELIX_TRY(MakeDirs(target));
  HELIX_ASSIGN_OR_RETURN(auto device, MountPool(image, target, loops, mounter));
  PoolInfo info{JoinPath(target, "volumes"), CloneMethod::kReflink, true, device};
  HELIX_TRY(MakeDirs(info.volumes_dir));
  spdlog::info("pool: volumes in {} on the self-managed XFS pool {} ({}), cloned by reflink",
               info.volumes_dir, image, info.device);
  return info;
}

}  // namespace helix::vol
