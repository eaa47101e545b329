// Recovery at start: the pool's meta.json files say what should be; the
// kernel's mount table and loop devices say what is. Where they disagree the
// kernel wins, and every repair is logged.
#include "common/file_util.h"
#include "common/log.h"
#include "volume-plugin/volume_manager.h"

namespace helix::vol {

Status VolumeManager::Recover() {
  HELIX_TRY(MakeDirs(PoolDir(), 0700));
  HELIX_TRY(MakeDirs(config_.mount_root, 0755));
  auto entries = ListDir(PoolDir());
  if (!entries.ok()) {
    return entries.error();
  }
  auto mounts = mounter_.List();
  if (!mounts.ok()) {
    return mounts.error();
  }
  for (const auto& entry : *entries) {
    if (entry.rfind(".tmp-", 0) == 0) {
      // A create or remove that a crash interrupted; never a visible volume.
      std::string dir = JoinPath(PoolDir(), entry);
      if (auto s = RemoveTree(dir); !s.ok()) {
        spdlog::warn("recovery: remove leftover {}: {}", dir, s.error().message());
      } else {
        spdlog::info("recovery: removed leftover {}", dir);
      }
      continue;
    }
    if (auto s = RecoverVolume(entry, *mounts); !s.ok()) {
      // One bad volume must not take the others down with it.
      spdlog::error("recovery: volume {} left out: {}", entry, s.error().message());
    }
  }
  std::lock_guard lock(mu_);
  spdlog::info("recovery: {} volume(s) in {}", volumes_.size(), PoolDir());
  return Ok();
}

Status VolumeManager::RecoverVolume(const std::string& name,
                                    const std::vector<MountEntry>& mounts) {
  HELIX_TRY(ValidateName(name));
  std::string meta_path = JoinPath(VolumeDir(name), "meta.json");
  auto text = ReadFile(meta_path);
  if (!text.ok()) {
    return text.error();
  }
  auto meta = MetaFromJson(*text, meta_path);
  if (!meta.ok()) {
    return meta.error();
  }
  if (meta->name != name) {
    return InvalidArgument(meta_path + ": names volume \"" + meta->name + "\"");
  }
  auto v = std::make_shared<Volume>();
  v->meta = *meta;
  std::string target = MountTarget(name);
  const MountEntry* mount = nullptr;
  for (const auto& m : mounts) {
    if (m.target == target) {
      mount = &m;  // the last one is the one on top
    }
  }
  auto id = IdOf(ImagePath(name));
  if (!id.ok()) {
    return id.error();
  }
  auto loop = loops_.FindByBacking(*id);
  if (!loop.ok()) {
    return loop.error();
  }
  const bool referenced = meta->References() > 0;
  if (mount) {
    // A plugin killed in the middle of a clone must not leave a desktop's
    // filesystem frozen. Thawing one that is not frozen does nothing.
    if (auto s = ops_.freezer.Thaw(target); !s.ok()) {
      spdlog::warn("recovery: thaw {}: {}", target, s.error().message());
    }
  }
  if (mount && referenced) {
    v->mounted = true;
    v->loop_device = mount->source;
    spdlog::info("recovery: volume {} is mounted on {} with {} reference(s)", name, mount->source,
                 meta->References());
  } else if (mount) {
    // Mounted, but no container holds it: a crash between unmount and saving.
    spdlog::warn("recovery: volume {} mounted without references; unmounting", name);
    if (auto s = mounter_.Unmount(target); !s.ok()) {
      spdlog::warn("recovery: unmount {}: {}; kept mounted", target, s.error().message());
      v->mounted = true;
      v->loop_device = mount->source;
    }
  } else if (referenced && loop->has_value()) {
    // Our mount is gone (plugin disabled with -f, or its mount namespace
    // went away) but a loop device still backs it: a running container holds
    // its own copy of the mount. Keep the references; the next Mount of
    // this volume reuses the loop device, and the container's Unmount will
    // find its ID.
    spdlog::info("recovery: volume {} is held by a container through {}; references kept", name,
                 **loop);
  } else if (referenced) {
    // Neither mounted nor backed by a loop device: nothing can be using it.
    spdlog::warn("recovery: volume {}: dropping {} stale reference(s)", name, meta->References());
    VolumeMeta cleared = *meta;
    cleared.mount_refs.clear();
    HELIX_TRY(AtomicWriteFile(meta_path, MetaToJson(cleared)));
    v->meta = cleared;
  } else if (loop->has_value()) {
    // A loop device nobody mounts: attached before a crash, or left by hand.
    spdlog::warn("recovery: volume {}: detaching orphaned {}", name, **loop);
    if (auto s = loops_.Detach(**loop); !s.ok()) {
      spdlog::warn("recovery: detach {}: {}", **loop, s.error().message());
    }
  }
  std::lock_guard lock(mu_);
  volumes_[name] = std::move(v);
  return Ok();
}

}  // namespace helix::vol
