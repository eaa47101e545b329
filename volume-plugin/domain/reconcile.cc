// The reconciliation plan at start (reconcile.h): pure decisions, applied by
// VolumeManager::Recover.
#include "volume-plugin/domain/reconcile.h"

#include <algorithm>
#include <cerrno>

#include "volume-plugin/domain/create_options.h"
#include "volume-plugin/domain/pool_layout.h"

namespace helix::vol {

std::vector<PoolEntry> PlanPool(const std::vector<std::string>& entries) {
  std::vector<PoolEntry> plan;
  for (const std::string& e : entries) {
    if (PoolLayout::IsStaging(e)) {
      // A create or remove that a crash interrupted; never a visible volume.
      plan.push_back({PoolEntry::kLeftover, e, ""});
    } else if (auto s = ValidateName(e); !s.ok()) {
      plan.push_back({PoolEntry::kStray, e, s.error().message()});
    } else {
      plan.push_back({PoolEntry::kVolume, e, ""});
    }
  }
  return plan;
}

namespace {

// meta.json's content for volume `name`, or why it cannot be used.
Result<VolumeMeta> ReadMeta(const VolumeFacts& f) {
  if (!f.meta_text.has_value()) {
    return Error(ErrorKind::kSystem, f.meta_error);
  }
  HELIX_ASSIGN_OR_RETURN(VolumeMeta meta, MetaFromJson(*f.meta_text, f.meta_path));
  if (meta.name != f.name) {
    return InvalidArgument(f.meta_path + ": names volume \"" + meta.name + "\"");
  }
  return meta;
}

}  // namespace

VolumePlan PlanVolume(const VolumeFacts& f, const KernelView& kernel) {
  VolumePlan p;
  auto meta = ReadMeta(f);
  if (meta.ok()) {
    p.meta = *meta;
  } else {
    p.meta.name = f.name;
    p.broken = "meta.json cannot be read (" + meta.error().message() +
               "); remove the volume, or repair the file and restart helixvol";
  }
  const LoopBinding* loop = nullptr;
  if (f.image_id.has_value()) {
    loop = kernel.LoopOf(*f.image_id);
  } else if (f.image_errno == ENOENT) {
    // Deleted under a mounted volume: the loop device still holds the
    // unlinked file, and the filesystem on it is still mounted.
    loop = kernel.LoopOfDeleted(f.image, f.pool_dev);
    p.broken = "image " + f.image +
               " is missing (deleted while the volume was mounted?); its data cannot come "
               "back: `helixvol release` lets go of its mount, then remove the volume";
  } else {
    p.broken = "image: " + f.image_error;
  }
  if (loop != nullptr) {
    p.loop = *loop;
  }
  KernelView::Target on = kernel.MountsOn(f.target, loop != nullptr ? loop->rdev : 0);
  if (on.foreign != nullptr) {
    p.foreign = *on.foreign;
  }
  p.thaw = on.ours != nullptr && on.ours_on_top;
  p.mounted = on.ours != nullptr;
  const int refs = p.meta.References();
  if (p.mounted && refs > 0) {
    p.repair = VolumePlan::kKeepMounted;
  } else if (p.mounted) {
    // A crash before Mount saved its reference (that Mount was never
    // answered), or after Unmount dropped it.
    p.repair = VolumePlan::kUnmount;
  } else if (refs > 0 && loop != nullptr) {
    // Our mount is gone (plugin disabled with -f, or its mount namespace
    // went away) but a loop device still backs it: a running container holds
    // its own copy of the mount. The next Mount reuses the loop device, and
    // the container's Unmount will find its ID.
    p.repair = VolumePlan::kKeepForContainer;
  } else if (refs > 0) {
    p.repair = VolumePlan::kDropReferences;
  } else if (loop != nullptr && loop->autoclear) {
    // Attached before a crash. One without autoclear is someone's losetup,
    // and theirs to detach.
    p.repair = VolumePlan::kDetachOrphan;
  } else if (loop != nullptr) {
    p.repair = VolumePlan::kLeaveForeignLoop;
  }
  p.make_data_dir = p.mounted && p.broken.empty() && !p.meta.snapshot;
  return p;
}

std::vector<std::string> StaleMountDirs(const std::vector<std::string>& entries,
                                        const std::vector<std::string>& mounted_volumes) {
  std::vector<std::string> stale;
  for (const std::string& e : entries) {
    if (std::find(mounted_volumes.begin(), mounted_volumes.end(), e) == mounted_volumes.end()) {
      stale.push_back(e);
    }
  }
  return stale;
}

}  // namespace helix::vol
