// VolumeManager's construction, Create, Remove and meta.json saves; the rest
// of its methods are in the files volume_manager.h lists.
#include "volume-plugin/domain/volume_manager.h"

#include "common/file_util.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/size.h"
#include "volume-plugin/system/fault_point.h"

namespace helix::vol {
namespace {

// Removes a half-made volume directory unless released: whatever step of a
// create fails, nothing is left behind.
class DirGuard {
 public:
  DirGuard(FileSystem& files, std::string dir) : files_(files), dir_(std::move(dir)) {}
  ~DirGuard() {
    if (!dir_.empty()) {
      if (auto s = files_.RemoveTree(dir_); !s.ok()) {
        spdlog::warn("clean up {}: {}", dir_, s.error().message());
      }
    }
  }
  void Release() { dir_.clear(); }

 private:
  FileSystem& files_;
  std::string dir_;
};

}  // namespace

VolumeManager::VolumeManager(ManagerConfig config, SystemOps ops)
    : config_(std::move(config)),
      ops_(ops),
      loops_(ops.loops),
      mounter_(ops.mounter),
      files_(ops.files) {}

void VolumeManager::UsePool(const PoolInfo& pool) {
  config_.pool_dir = pool.volumes_dir;
  config_.clone_method = pool.method;
  config_.trim_after_remove = pool.self_managed;
}

std::string VolumeManager::PoolDir() const {
  return config_.pool_dir.empty() ? JoinPath(config_.state_dir, "volumes") : config_.pool_dir;
}

PoolLayout VolumeManager::Layout() const { return PoolLayout(PoolDir(), config_.mount_root); }

Status VolumeManager::SaveMeta(Volume& v, const VolumeMeta& meta) {
  HELIX_TRY(WriteFileAtomically(files_, Layout().MetaPath(meta.name), MetaToJson(meta)));
  std::lock_guard lock(v.state_mu);
  v.meta = meta;
  v.unsaved.clear();
  return Ok();
}

Status VolumeManager::SaveOrKeepMeta(Volume& v, const VolumeMeta& meta) {
  Status s = SaveMeta(v, meta);
  if (!s.ok()) {
    std::lock_guard lock(v.state_mu);
    v.meta = meta;
    v.unsaved = "meta.json could not be updated (" + s.error().message() +
                "); what Status shows is in memory only until a later write succeeds";
  }
  return s;
}

Status VolumeManager::Create(const std::string& name,
                             const std::map<std::string, std::string>& opts) {
  HELIX_TRY(ValidateName(name));
  HELIX_ASSIGN_OR_RETURN(CreateOptions chosen,
                         ParseCreateOptions(opts, {config_.default_size, config_.max_size}));
  // A second Create of the same name (a retry) waits for the first.
  if (VolumePtr existing = registry_.BeginCreate(name)) {
    std::lock_guard state(existing->state_mu);
    if (existing->meta.options == chosen.given) {
      return Ok();
    }
    return AlreadyExists("create volume " + Quote(name) + ": volume " + Quote(name) +
                         " already exists with other options; remove it first");
  }
  if (!chosen.from.has_value() && !config_.default_from.empty() && !IsAnonymousName(name) &&
      name != config_.default_from) {
    chosen.from = config_.default_from;
  }
  if (!chosen.idmap.has_value() && !chosen.owner.has_value() && !config_.default_idmap.empty()) {
    chosen.idmap = config_.default_idmap;
  }
  if (!chosen.owner.has_value() && chosen.idmap.value_or("").empty() &&
      !config_.default_owner.empty()) {
    chosen.owner = config_.default_owner;
  }
  auto made = CreateLocked(name, chosen);
  registry_.EndCreate(name, made.ok() ? *made : nullptr);
  if (!made.ok()) {
    return made.error().Wrap("create volume " + Quote(name));
  }
  return Ok();
}

Result<VolumePtr> VolumeManager::CreateLocked(const std::string& name,
                                              const CreateOptions& options) {
  HELIX_TRY(RefuseIfCritical());
  const PoolLayout layout = Layout();
  // Build the volume under a staging name, then rename it into place: a
  // crash leaves either a staging directory (removed at the next start) or
  // a whole volume, never a half-made one under its name.
  const std::string tmp = layout.NewStagingDir();
  const std::string dir = layout.VolumeDir(name);
  HELIX_TRY(files_.MakeDir(tmp, 0700));
  DirGuard guard(files_, tmp);
  FaultPoint("create.dir-made");
  const std::string image = PoolLayout::ImageIn(tmp);
  auto v = std::make_shared<Volume>();
  v->meta.name = name;
  v->meta.size_bytes = options.size;
  v->meta.created_at = NowRfc3339();
  v->meta.exclusive = options.exclusive;
  v->meta.options = options.given;
  v->meta.snapshot = options.snapshot;
  v->meta.owner = options.owner.value_or("");
  v->meta.idmap = options.idmap.value_or("");
  if (options.from.has_value() && !options.from->empty()) {
    HELIX_TRY(CloneImage(*options.from, image, options, v->meta));
  } else {
    HELIX_TRY(files_.MakeSparseFile(image, options.size));
    FaultPoint("create.image-made");
    HELIX_TRY(ops_.formatter.MakeExt4(image));
    FaultPoint("create.formatted");
  }
  HELIX_TRY(WriteFileAtomically(files_, PoolLayout::MetaIn(tmp), MetaToJson(v->meta)));
  FaultPoint("create.meta-written");
  HELIX_TRY(files_.Rename(tmp, dir));
  FaultPoint("create.renamed");
  if (auto s = files_.SyncDir(layout.pool_dir()); !s.ok()) {
    // The rename may not survive a crash, so the create has failed: take
    // the volume back out of sight, for the guard to delete.
    auto back = files_.Rename(dir, tmp);
    if (back.ok()) {
      return s.error();
    }
    // Whole under its name, only its durability in doubt: keep it.
    spdlog::warn("create volume {}: {}; kept, since {}", name, s.error().message(),
                 back.error().message());
  }
  guard.Release();
  spdlog::info("created volume {} ({}{})", name, FormatSize(v->meta.size_bytes),
               v->meta.clone_source.empty()
                   ? ""
                   : ", " + v->meta.clone_method + " clone of " + v->meta.clone_source);
  return v;
}

Status VolumeManager::Remove(const std::string& name) {
  const std::string context = "remove volume " + Quote(name);
  HELIX_ASSIGN_OR_RETURN(LockedVolume locked, registry_.FindAndLock(name, context));
  Volume& v = *locked;
  {
    std::lock_guard state(v.state_mu);
    int refs = v.meta.References();
    if (refs > 0) {
      return Busy(context + ": volume is in use by " + std::to_string(refs) +
                  " container mount(s); stop the containers that use it first");
    }
    if (v.mounted) {
      return Busy(context + ": volume is mounted with no container reference; `helixvol release " +
                  name + "` unmounts it");
    }
  }
  const PoolLayout layout = Layout();
  // Rename first: from here on a crash leaves a staging directory, which the
  // next start deletes, and never a volume with half its files.
  const std::string doomed = layout.NewRemovalDir();
  if (auto s = files_.Rename(layout.VolumeDir(name), doomed); !s.ok()) {
    return s.error().Wrap(context);
  }
  FaultPoint("remove.renamed");
  {
    std::lock_guard state(v.state_mu);
    v.removed = true;
  }
  registry_.Erase(name);
  if (auto s = files_.SyncDir(layout.pool_dir()); !s.ok()) {
    spdlog::warn("remove volume {}: {}", name, s.error().message());
  }
  if (auto s = files_.RemoveTree(doomed); !s.ok()) {
    spdlog::warn("remove volume {}: {} (deleted at next start)", name, s.error().message());
  }
  FaultPoint("remove.deleted");
  if (config_.trim_after_remove) {
    if (auto s = files_.Trim(layout.pool_dir()); !s.ok()) {
      spdlog::warn("remove volume {}: {} (the space stays in the pool image until fstrim)", name,
                   s.error().message());
    }
  }
  (void)files_.RemoveDir(layout.MountTarget(name));  // there only if it was ever mounted
  spdlog::info("removed volume {}", name);
  return Ok();
}

}  // namespace helix::vol
