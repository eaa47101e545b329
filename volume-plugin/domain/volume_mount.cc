// Mount, Unmount and Release: reference counting per mount ID over one
// kernel mount per volume.
//
// Crash ordering. Mount records a reference only once the filesystem is
// mounted and data/ exists, just before answering: a crash at any earlier
// step leaves a mount without references (recovery unmounts it) or nothing
// at all, never a reference for a Mount nobody was answered, which would lock
// an exclusive volume until `helixvol release` (a Mount that dockerd repeats
// starts afresh, with whatever mount ID it brings). Between that save
// and the answer a crash still keeps the reference; that window is a write(2)
// long, and the alternative, answering first, could leave a container on a
// volume recovery then considers free. Unmount unmounts first and saves
// after: a crash in between leaves a reference with neither mount nor loop
// device behind it, which recovery drops.
#include <chrono>

#include "common/file_util.h"
#include "common/log.h"
#include "common/quote.h"
#include "volume-plugin/domain/mount_references.h"
#include "volume-plugin/domain/volume_manager.h"
#include "volume-plugin/system/fault_point.h"

namespace helix::vol {
namespace {

// A loop device bound to the image that helixvol would not have made: its
// mode does not fit the volume, so mounting it would fail or break a promise.
Status CheckReusable(const LoopBinding& b, const std::string& image, bool snapshot) {
  if (b.read_only && !snapshot) {
    return Busy(image + " is bound read-only to " + b.device +
                ", which helixvol did not set up (losetup -r or a read-only mount -o loop); a "
                "read-only device cannot be mounted read-write: detach it (losetup -d " +
                b.device + ") once nothing uses it");
  }
  if (!b.read_only && snapshot) {
    return Busy("snapshot " + image + " is bound read-write to " + b.device +
                ", which helixvol did not set up; a snapshot is mounted only from a read-only "
                "device: detach it (losetup -d " +
                b.device + ") once nothing uses it");
  }
  return Ok();
}

}  // namespace

// data/ belongs to the desktop's remapped root, so its engine (host uid
// 100000, say) can chmod its data root. Only the top directory: a clone stays
// O(1), and what is below it belongs to whoever wrote it. Set at every mount,
// so an owner given to a clone applies to its source's data/. A snapshot is
// read-only and keeps the owner it had.
Status VolumeManager::ApplyOwner(const std::string& data, const VolumeMeta& meta) {
  if (meta.owner.empty() || meta.snapshot) {
    return Ok();
  }
  auto owner = ParseOwner(meta.owner);
  if (!owner.ok()) {
    return owner.error().Wrap("owner " + Quote(meta.owner) + " in meta.json");
  }
  return files_.SetOwner(data, owner->uid, owner->gid);
}

Status VolumeManager::MountFilesystem(Volume& v, const std::string& name) {
  const PoolLayout layout = Layout();
  const std::string image = layout.ImagePath(name);
  const std::string target = layout.MountTarget(name);
  HELIX_ASSIGN_OR_RETURN(FileId id, files_.IdOf(image));
  const std::string data = PoolLayout::DataIn(target);
  HELIX_ASSIGN_OR_RETURN(KernelView kernel, KernelView::Read(mounter_, loops_));
  const VolumeMeta meta = StateOf(v).meta;
  const bool snapshot = meta.snapshot;
  const LoopBinding* bound = kernel.LoopOf(id);
  KernelView::Target on = kernel.MountsOn(target, bound != nullptr ? bound->rdev : 0);
  if (on.foreign != nullptr) {
    return Busy(target + " already has " + Describe(*on.foreign) +
                " mounted on it, which helixvol did not mount; unmount it first");
  }
  AttachedLoop attached;  // keeps a new device alive until it is mounted
  std::string device;
  dev_t rdev = 0;
  if (bound != nullptr) {
    // Reuse a loop device already bound to this image (a container may
    // still hold its copy of the mount after the plugin lost its own): two
    // loop devices on one image would be two writers of one ext4.
    HELIX_TRY(CheckReusable(*bound, image, snapshot));
    device = bound->device;
    rdev = bound->rdev;
  } else {
    // A snapshot is read-only down to the loop device: a privileged
    // container could remount a read-only ext4 read-write, but not make
    // a read-only block device writable.
    HELIX_ASSIGN_OR_RETURN(attached, loops_.Attach(image, /*read_only=*/snapshot));
    device = attached.device;
    rdev = attached.rdev;
    FaultPoint("mount.attached");
  }
  if (on.ours == nullptr) {
    HELIX_TRY(files_.MakeDirs(target, 0755));
    HELIX_TRY(
        mounter_.Mount(device, target, "ext4", snapshot ? kSnapshotMountOptions : kMountOptions));
    FaultPoint("mount.mounted");
  }
  // A step on data/ that fails leaves the volume unmounted.
  auto unmount_on_error = [&](Status s) -> Status {
    if (!s.ok()) (void)mounter_.Unmount(target);
    return s;
  };
  // dockerd gets data/, so lost+found never makes a new volume look non-empty
  // (dockerd copies an image's files into a volume only when it is empty).
  HELIX_TRY(unmount_on_error(files_.MakeDirs(data, 0755)));
  HELIX_TRY(unmount_on_error(ApplyOwner(data, meta)));
  FaultPoint("mount.data-made");
  // `-o idmap`: dockerd gets data/ through an idmapped mount stacked on it
  // (kept when the volume's mount was found again after a restart).
  if (!meta.idmap.empty() && kernel.MountsOn(data, rdev).ours == nullptr) {
    HELIX_TRY(unmount_on_error(mounter_.IdmapBind(data, meta.idmap)));
    FaultPoint("idmap.bound");
  }
  std::lock_guard state(v.state_mu);
  v.mounted = true;
  v.loop_device = device;
  v.loop_rdev = rdev;
  return Ok();
}

Status VolumeManager::UnmountFilesystem(Volume& v, const std::string& name) {
  const std::string target = Layout().MountTarget(name);
  const std::string data = PoolLayout::DataIn(target);
  const dev_t rdev = StateOf(v).loop_rdev;
  HELIX_ASSIGN_OR_RETURN(KernelView kernel, KernelView::ReadMounts(mounter_));
  KernelView::Target on = kernel.MountsOn(target, rdev);
  if (on.ours != nullptr && !on.ours_on_top) {
    return Busy(target + " has " + Describe(*on.foreign) +
                " mounted on top of the volume, which helixvol did not mount; unmount it first");
  }
  // "Not mounted" (EINVAL) is the state wanted: `docker plugin disable -f`
  // unmounts the propagated mount behind our back.
  auto unmount = [&](const std::string& path) -> Status {
    Status s = mounter_.Unmount(path);
    return !s.ok() && s.error().sys_errno() == EINVAL ? Ok() : s;
  };
  // An idmapped data/ (`-o idmap`) goes first: the volume's own mount is
  // busy while it is stacked there.
  if (kernel.MountsOn(data, rdev).ours != nullptr) HELIX_TRY(unmount(data));
  // No mount of ours there: already gone, as above.
  if (on.ours != nullptr) HELIX_TRY(unmount(target));
  (void)files_.RemoveDir(target);  // left alone if someone's mount is still there
  std::lock_guard state(v.state_mu);
  v.mounted = false;
  v.loop_device.clear();
  v.loop_rdev = 0;
  return Ok();
}

Result<std::string> VolumeManager::Mount(const std::string& name, const std::string& id) {
  const auto start = std::chrono::steady_clock::now();
  const std::string context = "mount volume " + Quote(name);
  if (id.empty()) {
    return InvalidArgument(context + ": missing mount ID");
  }
  HELIX_ASSIGN_OR_RETURN(LockedVolume locked, registry_.FindAndLock(name, context));
  Volume& v = *locked;
  VolumeState st = StateOf(v);
  if (!st.broken.empty()) {
    return Error(ErrorKind::kSystem, context + ": " + st.broken);
  }
  VolumeMeta& meta = st.meta;
  HELIX_TRY(CheckMayMount(meta, id, context));
  // Undoes a mount this call made, when it is not to be kept after all.
  auto roll_back = [&] {
    if (!st.mounted) {
      if (auto s = UnmountFilesystem(v, name); !s.ok()) {
        spdlog::error("{}: roll back the mount: {}", context, s.error().message());
      }
    }
  };
  if (!st.mounted) {
    if (auto s = MountFilesystem(v, name); !s.ok()) {
      return s.error().Wrap(context);
    }
  }
  auto took = std::chrono::steady_clock::now() - start;
  if (took > config_.mount_timeout) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(took).count();
    spdlog::warn("{}: took {}s, rolling back mount ID {}", context, secs, ShortId(id));
    roll_back();
    return Error(ErrorKind::kTimeout,
                 context + ": took " + std::to_string(secs) +
                     "s, longer than dockerd waits (MOUNT_TIMEOUT); rolled back so that no "
                     "container holds a mount it never received");
  }
  AddReference(meta, id);
  if (auto s = SaveMeta(v, meta); !s.ok()) {
    roll_back();
    return s.error().Wrap(context);
  }
  FaultPoint("mount.ref-saved");
  spdlog::info("mounted volume {} for {} ({} reference(s))", name, ShortId(id), meta.References());
  return Layout().DataPath(name);
}

Status VolumeManager::Unmount(const std::string& name, const std::string& id) {
  const std::string context = "unmount volume " + Quote(name);
  HELIX_ASSIGN_OR_RETURN(LockedVolume locked, registry_.FindAndLock(name, context));
  Volume& v = *locked;
  VolumeState st = StateOf(v);
  VolumeMeta& meta = st.meta;
  if (!DropReference(meta, id)) {
    return NotFound(context + ": no mount with ID " + Quote(id));
  }
  // The reference goes whatever happens below: dockerd sends one Unmount per
  // Mount and will not ask again, so keeping it would lock the volume.
  Status unmounted = Ok();
  if (ShouldUnmount(meta, st.mounted)) {
    unmounted = UnmountFilesystem(v, name);
    if (!unmounted.ok()) {
      spdlog::warn("{}: {} (reference dropped anyway)", context, unmounted.error().message());
    }
    FaultPoint("unmount.unmounted");
  }
  if (auto s = SaveOrKeepMeta(v, meta); !s.ok()) {
    return s.error().Wrap(context);
  }
  FaultPoint("unmount.ref-saved");
  if (!unmounted.ok()) {
    return unmounted.error().Wrap(context);
  }
  spdlog::info("unmounted volume {} for {} ({} reference(s) left)", name, ShortId(id),
               meta.References());
  return Ok();
}

Result<std::vector<std::string>> VolumeManager::Release(const std::string& name,
                                                        const std::string& id) {
  const std::string context = "release volume " + Quote(name);
  HELIX_ASSIGN_OR_RETURN(LockedVolume locked, registry_.FindAndLock(name, context));
  Volume& v = *locked;
  VolumeState st = StateOf(v);
  VolumeMeta& meta = st.meta;
  std::vector<std::string> dropped = ReleaseReferences(meta, id);
  if (!id.empty() && dropped.empty()) {
    return NotFound(context + ": no mount with ID " + Quote(id));
  }
  if (ShouldUnmount(meta, st.mounted)) {
    if (auto s = UnmountFilesystem(v, name); !s.ok()) {
      spdlog::warn("{}: {}", context, s.error().message());
    }
  }
  if (auto s = SaveOrKeepMeta(v, meta); !s.ok()) {
    return s.error().Wrap(context);
  }
  spdlog::warn("{}: dropped {} reference(s) by operator request", context, dropped.size());
  return dropped;
}

}  // namespace helix::vol
