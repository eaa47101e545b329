// Recovery at start: read what the pool and the kernel say, ask reconcile.h
// for the plan, carry it out and log every repair. The decisions, and why
// they are right, are in reconcile.cc; here is only their execution.
#include "common/file_util.h"
#include "common/log.h"
#include "volume-plugin/domain/volume_manager.h"

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
    if (PoolLayout::IsMetaTemp(n)) {
      std::string path = JoinPath(dir, n);
      if (files.RemoveFile(path).ok()) {
        spdlog::info("recovery: removed leftover {}", path);
      }
    }
  }
}

}  // namespace

Status VolumeManager::Recover() {
  const PoolLayout layout = Layout();
  const std::string& pool_dir = layout.pool_dir();
  HELIX_TRY(files_.MakeDirs(pool_dir, 0700));
  HELIX_TRY(files_.MakeDirs(layout.mount_root(), 0755));
  HELIX_ASSIGN_OR_RETURN(auto entries, files_.ListDir(pool_dir));
  HELIX_ASSIGN_OR_RETURN(FileId pool, files_.IdOf(pool_dir));
  space_layers_ = FindSpaceLayers(pool_dir, loops_);
  for (const SpaceLayer& l : space_layers_) {
    spdlog::info("pool space: measured on {}", l.what);
  }
  (void)MeasurePool();  // logs the level the pool starts at
  // One reading of the kernel for every volume.
  HELIX_ASSIGN_OR_RETURN(KernelView kernel, KernelView::Read(mounter_, loops_));
  for (const PoolEntry& entry : PlanPool(entries)) {
    switch (entry.kind) {
      case PoolEntry::kLeftover: {
        std::string dir = JoinPath(pool_dir, entry.name);
        if (auto s = files_.RemoveTree(dir); !s.ok()) {
          spdlog::warn("recovery: remove leftover {}: {}", dir, s.error().message());
        } else {
          spdlog::info("recovery: removed leftover {}", dir);
        }
        break;
      }
      case PoolEntry::kStray:
        spdlog::warn("recovery: {} in {} is no volume: {}", entry.name, pool_dir, entry.why);
        break;
      case PoolEntry::kVolume:
        RemoveMetaTemps(files_, layout.VolumeDir(entry.name));
        ApplyPlan(entry.name, PlanVolume(FactsOf(entry.name, pool.dev), kernel));
        break;
    }
  }
  // Mount points left empty by a crash.
  if (auto dirs = files_.ListDir(layout.mount_root()); dirs.ok()) {
    std::vector<std::string> mounted;
    for (const auto& [name, v] : registry_.All()) {
      if (StateOf(*v).mounted) {
        mounted.push_back(name);
      }
    }
    for (const std::string& d : StaleMountDirs(*dirs, mounted)) {
      (void)files_.RemoveDir(JoinPath(layout.mount_root(), d));
    }
  }
  spdlog::info("recovery: {} volume(s) in {}", registry_.Size(), pool_dir);
  return Ok();
}

VolumeFacts VolumeManager::FactsOf(const std::string& name, dev_t pool_dev) {
  const PoolLayout layout = Layout();
  VolumeFacts f;
  f.name = name;
  f.meta_path = layout.MetaPath(name);
  if (auto text = files_.ReadFile(f.meta_path); text.ok()) {
    f.meta_text = std::move(*text);
  } else {
    f.meta_error = text.error().message();
  }
  f.image = layout.ImagePath(name);
  if (auto id = files_.IdOf(f.image); id.ok()) {
    f.image_id = *id;
  } else {
    f.image_errno = id.error().sys_errno();
    f.image_error = id.error().message();
  }
  f.target = layout.MountTarget(name);
  f.pool_dev = pool_dev;
  return f;
}

void VolumeManager::ApplyPlan(const std::string& name, const VolumePlan& plan) {
  const std::string target = Layout().MountTarget(name);
  auto v = std::make_shared<Volume>();
  v->meta = plan.meta;
  v->broken = plan.broken;
  if (plan.foreign.has_value()) {
    spdlog::warn("recovery: {} has {} mounted, which helixvol did not mount; left alone", target,
                 Describe(*plan.foreign));
  }
  if (plan.thaw) {
    if (auto s = ops_.freezer.Thaw(target); !s.ok()) {
      spdlog::warn("recovery: thaw {}: {}", target, s.error().message());
    }
  }
  if (plan.mounted) {
    v->mounted = true;
    v->loop_device = plan.loop->device;
    v->loop_rdev = plan.loop->rdev;
  }
  const int refs = plan.meta.References();
  const std::string device = plan.loop.has_value() ? plan.loop->device : "";
  switch (plan.repair) {
    case VolumePlan::kNothing:
      break;
    case VolumePlan::kKeepMounted:
      spdlog::info("recovery: volume {} is mounted on {} with {} reference(s)", name, device, refs);
      break;
    case VolumePlan::kUnmount:
      spdlog::warn("recovery: volume {} mounted without references; unmounting", name);
      if (auto s = UnmountFilesystem(*v, name); !s.ok()) {
        spdlog::warn("recovery: unmount {}: {}; kept mounted", target, s.error().message());
      }
      break;
    case VolumePlan::kKeepForContainer:
      spdlog::info("recovery: volume {} is held by a container through {}; references kept", name,
                   device);
      break;
    case VolumePlan::kDropReferences: {
      spdlog::warn("recovery: volume {}: dropping {} stale reference(s)", name, refs);
      VolumeMeta cleared = v->meta;
      cleared.mount_refs.clear();
      if (auto s = SaveOrKeepMeta(*v, cleared); !s.ok()) {
        spdlog::error("recovery: volume {}: {} (kept in memory)", name, s.error().message());
      }
      break;
    }
    case VolumePlan::kDetachOrphan:
      spdlog::warn("recovery: volume {}: detaching orphaned {}", name, device);
      if (auto s = loops_.Detach(device); !s.ok()) {
        spdlog::warn("recovery: detach {}: {}", device, s.error().message());
      }
      break;
    case VolumePlan::kLeaveForeignLoop:
      spdlog::warn("recovery: volume {}: {} is bound to its image by someone else; left alone",
                   name, device);
      break;
  }
  // Still mounted after the repair (an unmount that failed keeps it).
  if (plan.make_data_dir && v->mounted) {
    if (auto s = files_.MakeDirs(PoolLayout::DataIn(target), 0755); !s.ok()) {
      spdlog::warn("recovery: volume {}: {}", name, s.error().message());
    }
  }
  if (!v->broken.empty()) {
    spdlog::error("recovery: volume {} is broken: {}", name, v->broken);
  }
  registry_.Add(name, std::move(v));
}

}  // namespace helix::vol
