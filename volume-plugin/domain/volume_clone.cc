// Clones and snapshots: a new volume whose image is a copy of another's, by
// reflink where the pool can, consistent even while the source is mounted.
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/file_util.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/size.h"
#include "volume-plugin/domain/volume_manager.h"
#include "volume-plugin/system/fault_point.h"

namespace helix::vol {
namespace {

// Above this many extents a snapshot is written as a plain copy instead of a
// reflink: reflink time grows with the source's extent count (75,000
// extents: about a second), and every clone of the snapshot pays it again.
// A fresh copy on XFS comes out in a few large extents.
constexpr uint64_t kSnapshotMaxExtents = 256;

// Keeps a mounted filesystem frozen for at most `limit`: a watchdog thaws it
// if the holder has not by then, so a desktop never hangs on a stuck clone.
class BoundedFreeze {
 public:
  BoundedFreeze(Freezer& freezer, std::string mountpoint, std::chrono::milliseconds limit)
      : freezer_(freezer), mountpoint_(std::move(mountpoint)) {
    watchdog_ = std::thread([this, limit] {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
        expired_ = true;
        ThawLocked();
      }
    });
  }
  ~BoundedFreeze() { (void)Thaw(); }

  // Thaws now. Returns false when the watchdog thawed first (the copy made
  // meanwhile may have seen writes).
  bool Thaw() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
      ThawLocked();
    }
    cv_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    return !expired_;
  }

 private:
  void ThawLocked() {
    if (thawed_) return;
    thawed_ = true;
    if (auto s = freezer_.Thaw(mountpoint_); !s.ok()) {
      spdlog::error("thaw {}: {}", mountpoint_, s.error().message());
    }
  }

  Freezer& freezer_;
  std::string mountpoint_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;     // guarded by mu_
  bool thawed_ = false;   // guarded by mu_
  bool expired_ = false;  // guarded by mu_; read after join
  std::thread watchdog_;
};

}  // namespace

Result<CloneMethod> VolumeManager::CloneImage(const std::string& source, const std::string& image,
                                              const CreateOptions& options, VolumeMeta& meta) {
  // No mount, unmount or removal of the source while it is copied.
  auto locked = registry_.FindAndLock(source);
  if (!locked.ok()) {
    return NotFound("clone source " + Quote(source) + " not found");
  }
  VolumeState st = StateOf(**locked);
  const VolumeMeta& src_meta = st.meta;
  const bool mounted = st.mounted;
  if (!st.broken.empty()) {
    return Error(ErrorKind::kSystem, "clone source " + Quote(source) + ": " + st.broken);
  }
  uint64_t size = src_meta.size_bytes;
  if (options.size_given) {
    if (options.size < src_meta.size_bytes) {
      return BadOption("size", options.given.at("size"),
                       "smaller than the source volume " + Quote(source) + " (" +
                           FormatSize(src_meta.size_bytes) + ")");
    }
    size = options.size;
  }
  const PoolLayout layout = Layout();
  std::string src_image = layout.ImagePath(source);
  CloneMethod method = config_.clone_method;
  if (options.snapshot && method == CloneMethod::kReflink) {
    auto extents = ops_.cloner.ExtentCount(src_image);
    if (extents.ok() && *extents > kSnapshotMaxExtents) {
      spdlog::info("snapshot of {}: {} extents, copying to defragment", source, *extents);
      method = CloneMethod::kCopy;
    }
  }
  if (mounted && !src_meta.snapshot) {
    // Freezing flushes the filesystem and checkpoints its journal, so the
    // copy is a clean filesystem, not a crash image.
    std::string target = layout.MountTarget(source);
    HELIX_TRY(ops_.freezer.Freeze(target));
    BoundedFreeze frozen(ops_.freezer, target, config_.freeze_timeout);
    FaultPoint("clone.frozen");
    Status cloned = ops_.cloner.Clone(src_image, image, method);
    FaultPoint("clone.copied");
    if (!frozen.Thaw()) {
      (void)files_.RemoveFile(image);
      return Error(ErrorKind::kTimeout, "source " + Quote(source) +
                                            " stayed frozen longer than FREEZE_TIMEOUT (" +
                                            std::to_string(config_.freeze_timeout.count()) +
                                            "ms); thawed it and abandoned the clone");
    }
    HELIX_TRY(cloned);
    FaultPoint("clone.thawed");
  } else if (src_meta.References() > 0 && !src_meta.snapshot) {
    // A container holds it through a mount helixvol cannot see (after
    // `docker plugin disable -f`): it cannot be frozen, so no clean copy.
    return Busy("clone source " + Quote(source) +
                " is in use through a mount helixvol cannot freeze; stop its container or "
                "mount it again first");
  } else {
    HELIX_TRY(ops_.cloner.Clone(src_image, image, method));
  }
  // Two filesystems with one UUID confuse blkid and anything that mounts by UUID.
  HELIX_TRY(ops_.ext4.SetRandomUuid(image));
  FaultPoint("clone.uuid-set");
  if (size > src_meta.size_bytes) {
    HELIX_TRY(GrowImage(image, size));
    FaultPoint("clone.grown");
  }
  meta.size_bytes = size;
  meta.clone_source = source;
  // Neither given: the source's owner and idmap; one given: that one only.
  if (!options.owner.has_value() && !options.idmap.has_value()) {
    meta.owner = src_meta.owner;
    meta.idmap = src_meta.idmap;
  }
  meta.clone_method = std::string(CloneMethodName(method));
  return method;
}

Status VolumeManager::GrowImage(const std::string& image, uint64_t size) {
  HELIX_TRY(files_.Grow(image, size));
  return ops_.ext4.Grow(image);
}

}  // namespace helix::vol
