// Recovery at start: the pool's meta.json files say what should be; the
// kernel's mount table and loop devices say what is. Where they disagree the
// kernel wins, and every repair is logged. Recovery acts only on what is
// helixvol's: a mount at a volume's mount point counts only when it is of
// the loop device bound to that volume's image (kernel_view.h), and a loop
// device only when it is bound to the image with autoclear, as helixvol binds
// them. A volume recovery cannot make whole is still registered, with the
// reason in Status, so that it never drops out of dockerd's view.
#include "common/file_util.h"
#include "common/log.h"
#include "volume-plugin/volume_manager.h"

namespace helix::vol {
namespace {

// A meta.json write (WriteFileAtomically) cut short by a crash leaves its
// temporary file beside meta.json.
void RemoveMetaTemps(FileSystem& files, const std::string& dir) {
  auto names = files.ListDir(dir);
  if (!names.ok()) {
    return;
  }
  for (const std::string& n : *names) {
    if (n.rfind(".meta.json.tmp-", 0) == 0) {
      std::string path = JoinPath(dir, n);
      if (files.RemoveFile(path).ok()) {
        spdlog::info("recovery: removed leftover {}", path);
      }
    }
  }
}

}  // namespace

Status VolumeManager::Recover() {
  HELIX_TRY(files_.MakeDirs(PoolDir(), 0700));
  HELIX_TRY(files_.MakeDirs(config_.mount_root, 0755));
  HELIX_ASSIGN_OR_RETURN(auto entries, files_.ListDir(PoolDir()));
  HELIX_ASSIGN_OR_RETURN(FileId pool, files_.IdOf(PoolDir()));
  space_layers_ = FindSpaceLayers(PoolDir(), loops_);
  for (const SpaceLayer& l : space_layers_) {
    spdlog::info("pool space: measured on {}", l.what);
  }
  (void)MeasurePool();  // logs the level the pool starts at
  // One reading of the kernel for every volume.
  HELIX_ASSIGN_OR_RETURN(auto kernel, KernelView::Read(mounter_, loops_));
  for (const auto& entry : entries) {
    if (entry.rfind(".tmp-", 0) == 0) {
      // A create or remove that a crash interrupted; never a visible volume.
      std::string dir = JoinPath(PoolDir(), entry);
      if (auto s = files_.RemoveTree(dir); !s.ok()) {
        spdlog::warn("recovery: remove leftover {}: {}", dir, s.error().message());
      } else {
        spdlog::info("recovery: removed leftover {}", dir);
      }
      continue;
    }
    if (auto s = ValidateName(entry); !s.ok()) {
      spdlog::warn("recovery: {} in {} is no volume: {}", entry, PoolDir(), s.error().message());
      continue;
    }
    RecoverVolume(entry, kernel, pool.dev);
  }
  // Mount points left empty by a crash; rmdir touches neither a mount point
  // (EBUSY) nor a directory with anything in it.
  if (auto dirs = files_.ListDir(config_.mount_root); dirs.ok()) {
    std::lock_guard lock(mu_);
    for (const std::string& d : *dirs) {
      auto it = volumes_.find(d);
      if (it == volumes_.end() || !StateOf(*it->second).mounted) {
        (void)files_.RemoveDir(JoinPath(config_.mount_root, d));
      }
    }
  }
  std::lock_guard lock(mu_);
  spdlog::info("recovery: {} volume(s) in {}", volumes_.size(), PoolDir());
  return Ok();
}

void VolumeManager::RecoverVolume(const std::string& name, const KernelView& kernel,
                                  dev_t pool_dev) {
  auto v = std::make_shared<Volume>();
  const std::string dir = VolumeDir(name);
  const std::string meta_path = JoinPath(dir, "meta.json");
  const std::string image = ImagePath(name);
  const std::string target = MountTarget(name);
  RemoveMetaTemps(files_, dir);
  auto text = files_.ReadFile(meta_path);
  auto meta = text.ok() ? MetaFromJson(*text, meta_path) : Result<VolumeMeta>(text.error());
  if (meta.ok() && meta->name != name) {
    meta = InvalidArgument(meta_path + ": names volume \"" + meta->name + "\"");
  }
  if (meta.ok()) {
    v->meta = *meta;
  } else {
    v->meta.name = name;
    v->broken = "meta.json cannot be read (" + meta.error().message() +
                "); remove the volume, or repair the file and restart helixvol";
  }
  const LoopBinding* loop = nullptr;
  if (auto id = files_.IdOf(image); id.ok()) {
    loop = kernel.LoopOf(*id);
  } else if (id.error().sys_errno() == ENOENT) {
    // Deleted under a mounted volume: the loop device still holds the
    // unlinked file, and the filesystem on it is still mounted.
    loop = kernel.LoopOfDeleted(image, pool_dev);
    v->broken = "image " + image +
                " is missing (deleted while the volume was mounted?); its data cannot come "
                "back: `helixvol release` lets go of its mount, then remove the volume";
  } else {
    v->broken = "image: " + id.error().message();
  }
  KernelView::Target on = kernel.MountsOn(target, loop != nullptr ? loop->rdev : 0);
  if (on.foreign != nullptr) {
    spdlog::warn("recovery: {} has {} mounted, which helixvol did not mount; left alone", target,
                 Describe(*on.foreign));
  }
  if (on.ours != nullptr && on.ours_on_top) {
    // A plugin killed in the middle of a clone must not leave a desktop's
    // filesystem frozen. Thawing one that is not frozen does nothing.
    if (auto s = ops_.freezer.Thaw(target); !s.ok()) {
      spdlog::warn("recovery: thaw {}: {}", target, s.error().message());
    }
  }
  const int refs = v->meta.References();
  if (on.ours != nullptr) {
    v->mounted = true;
    v->loop_device = loop->device;
    v->loop_rdev = loop->rdev;
  }
  if (on.ours != nullptr && refs > 0) {
    spdlog::info("recovery: volume {} is mounted on {} with {} reference(s)", name, loop->device,
                 refs);
  } else if (on.ours != nullptr) {
    // Mounted, but no container holds it: a crash before Mount saved its
    // reference (that Mount was never answered), or after Unmount dropped it.
    spdlog::warn("recovery: volume {} mounted without references; unmounting", name);
    if (auto s = UnmountFilesystem(*v, name); !s.ok()) {
      spdlog::warn("recovery: unmount {}: {}; kept mounted", target, s.error().message());
    }
  } else if (refs > 0 && loop != nullptr) {
    // Our mount is gone (plugin disabled with -f, or its mount namespace
    // went away) but a loop device still backs it: a running container holds
    // its own copy of the mount. Keep the references; the next Mount of
    // this volume reuses the loop device, and the container's Unmount will
    // find its ID.
    spdlog::info("recovery: volume {} is held by a container through {}; references kept", name,
                 loop->device);
  } else if (refs > 0) {
    // Neither mounted nor backed by a loop device: nothing can be using it.
    spdlog::warn("recovery: volume {}: dropping {} stale reference(s)", name, refs);
    VolumeMeta cleared = v->meta;
    cleared.mount_refs.clear();
    if (auto s = SaveOrKeepMeta(*v, cleared); !s.ok()) {
      spdlog::error("recovery: volume {}: {} (kept in memory)", name, s.error().message());
    }
  } else if (loop != nullptr && loop->autoclear) {
    // A loop device nobody mounts: attached before a crash. One without
    // autoclear is someone's losetup, and theirs to detach.
    spdlog::warn("recovery: volume {}: detaching orphaned {}", name, loop->device);
    if (auto s = loops_.Detach(loop->device); !s.ok()) {
      spdlog::warn("recovery: detach {}: {}", loop->device, s.error().message());
    }
  } else if (loop != nullptr) {
    spdlog::warn("recovery: volume {}: {} is bound to its image by someone else; left alone", name,
                 loop->device);
  }
  if (v->mounted && v->broken.empty() && !v->meta.snapshot) {
    // A volume mounted before data/ was made (a crash, or an older helixvol).
    if (auto s = files_.MakeDirs(JoinPath(target, "data"), 0755); !s.ok()) {
      spdlog::warn("recovery: volume {}: {}", name, s.error().message());
    }
  }
  if (!v->broken.empty()) {
    spdlog::error("recovery: volume {} is broken: {}", name, v->broken);
  }
  std::lock_guard lock(mu_);
  volumes_[name] = std::move(v);
}

}  // namespace helix::vol
