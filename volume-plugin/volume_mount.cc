// Mount, Unmount and Release: reference counting per mount ID over one
// kernel mount per volume.
#include <chrono>

#include "common/file_util.h"
#include "common/log.h"
#include "common/quote.h"
#include "volume-plugin/volume_manager.h"

namespace helix::vol {
namespace {

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

}  // namespace

Status VolumeManager::MountFilesystem(Volume& v, const std::string& name) {
  auto id = IdOf(ImagePath(name));
  if (!id.ok()) {
    return id.error();
  }
  // Reuse a loop device already bound to this image (a container may still
  // hold its copy of the mount after the plugin lost its own): two loop
  // devices on one image would be two writers of one ext4.
  auto existing = loops_.FindByBacking(*id);
  if (!existing.ok()) {
    return existing.error();
  }
  bool snapshot;
  {
    std::lock_guard state(v.state_mu);
    snapshot = v.meta.snapshot;
  }
  AttachedLoop attached;  // keeps a new device alive until it is mounted
  std::string device;
  if (existing->has_value()) {
    device = **existing;
  } else {
    // A snapshot is read-only down to the loop device: a privileged
    // container could remount a read-only ext4 read-write, but not make
    // a read-only block device writable.
    auto a = loops_.Attach(ImagePath(name), /*read_only=*/snapshot);
    if (!a.ok()) {
      return a.error();
    }
    attached = std::move(*a);
    device = attached.device;
  }
  std::string target = MountTarget(name);
  HELIX_TRY(MakeDirs(target, 0755));
  HELIX_TRY(
      mounter_.Mount(device, target, "ext4", snapshot ? kSnapshotMountOptions : kMountOptions));
  // dockerd gets data/, so lost+found never makes a new volume look non-empty
  // (dockerd copies an image's files into a volume only when it is empty).
  if (auto s = MakeDirs(JoinPath(target, "data"), 0755); !s.ok()) {
    (void)mounter_.Unmount(target);
    return s.error();
  }
  std::lock_guard state(v.state_mu);
  v.mounted = true;
  v.loop_device = device;
  return Ok();
}

Status VolumeManager::UnmountFilesystem(Volume& v, const std::string& name) {
  std::string target = MountTarget(name);
  Status s = mounter_.Unmount(target);
  // EINVAL: not mounted any more (`docker plugin disable -f` unmounts the
  // propagated mount behind our back), which is the state we wanted.
  if (!s.ok() && s.error().sys_errno() != EINVAL) {
    return s.error();
  }
  ::rmdir(target.c_str());
  std::lock_guard state(v.state_mu);
  v.mounted = false;
  v.loop_device.clear();
  return Ok();
}

Result<std::string> VolumeManager::Mount(const std::string& name, const std::string& id) {
  const auto start = std::chrono::steady_clock::now();
  const std::string context = "mount volume " + Quote(name);
  if (id.empty()) {
    return InvalidArgument(context + ": missing mount ID");
  }
  auto found = Find(name);
  if (!found.ok()) {
    return found.error().Wrap(context);
  }
  Volume& v = **found;
  std::lock_guard op(v.op_mu);
  auto [meta, mounted, loop, removed] = StateOf(v);
  if (removed) {
    return NotFound(context + ": volume " + Quote(name) + " not found");
  }
  // Many containers may share a snapshot: nobody can write to it.
  if (!meta.mount_refs.count(id) && !meta.mount_refs.empty() && meta.exclusive && !meta.snapshot) {
    return Busy(context + ": in use by another container (mount ID " +
                ShortId(meta.mount_refs.begin()->first) +
                "); a data root is exclusive because two Docker engines on one data root "
                "corrupt it (create the volume with -o exclusive=false to share it)");
  }
  const VolumeMeta before = meta;
  meta.mount_refs[id]++;
  // Save the reference before mounting: a crash in between leaves a reference
  // without a mount, which recovery drops; never a mount nobody knows about.
  if (auto s = SaveMeta(v, meta); !s.ok()) {
    return s.error().Wrap(context);
  }
  if (!mounted) {
    if (auto s = MountFilesystem(v, name); !s.ok()) {
      if (auto undo = SaveMeta(v, before); !undo.ok()) {
        spdlog::error("{}: roll back reference: {}", context, undo.error().message());
      }
      return s.error().Wrap(context);
    }
  }
  auto took = std::chrono::steady_clock::now() - start;
  if (took > config_.mount_timeout) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(took).count();
    spdlog::warn("{}: took {}s, rolling back mount ID {}", context, secs, ShortId(id));
    if (auto undo = SaveMeta(v, before); !undo.ok()) {
      spdlog::error("{}: roll back reference: {}", context, undo.error().message());
    } else if (before.mount_refs.empty()) {
      (void)UnmountFilesystem(v, name);
    }
    return Error(ErrorKind::kTimeout,
                 context + ": took " + std::to_string(secs) +
                     "s, longer than dockerd waits (MOUNT_TIMEOUT); rolled back so that no "
                     "container holds a mount it never received");
  }
  spdlog::info("mounted volume {} for {} ({} reference(s))", name, ShortId(id), meta.References());
  return JoinPath(MountTarget(name), "data");
}

Status VolumeManager::Unmount(const std::string& name, const std::string& id) {
  const std::string context = "unmount volume " + Quote(name);
  auto found = Find(name);
  if (!found.ok()) {
    return found.error().Wrap(context);
  }
  Volume& v = **found;
  std::lock_guard op(v.op_mu);
  auto [meta, mounted, loop, removed] = StateOf(v);
  auto it = meta.mount_refs.find(id);
  if (it == meta.mount_refs.end()) {
    return NotFound(context + ": no mount with ID " + Quote(id));
  }
  if (--it->second == 0) {
    meta.mount_refs.erase(it);
  }
  // The reference goes whatever happens below: dockerd sends one Unmount per
  // Mount and will not ask again, so keeping it would lock the volume.
  Status unmounted = Ok();
  if (meta.mount_refs.empty() && mounted) {
    unmounted = UnmountFilesystem(v, name);
    if (!unmounted.ok()) {
      spdlog::warn("{}: {} (reference dropped anyway)", context, unmounted.error().message());
    }
  }
  if (auto s = SaveMeta(v, meta); !s.ok()) {
    std::lock_guard state(v.state_mu);
    v.meta = meta;  // in memory at least; recovery reconciles the file
    return s.error().Wrap(context);
  }
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
  auto found = Find(name);
  if (!found.ok()) {
    return found.error().Wrap(context);
  }
  Volume& v = **found;
  std::lock_guard op(v.op_mu);
  auto [meta, mounted, loop, removed] = StateOf(v);
  std::vector<std::string> dropped;
  if (id.empty()) {
    for (const auto& [ref, count] : meta.mount_refs) {
      dropped.push_back(ref);
    }
    meta.mount_refs.clear();
  } else if (meta.mount_refs.erase(id)) {
    dropped.push_back(id);
  } else {
    return NotFound(context + ": no mount with ID " + Quote(id));
  }
  if (meta.mount_refs.empty() && mounted) {
    if (auto s = UnmountFilesystem(v, name); !s.ok()) {
      spdlog::warn("{}: {}", context, s.error().message());
    }
  }
  if (auto s = SaveMeta(v, meta); !s.ok()) {
    return s.error().Wrap(context);
  }
  spdlog::warn("{}: dropped {} reference(s) by operator request", context, dropped.size());
  return dropped;
}

}  // namespace helix::vol
