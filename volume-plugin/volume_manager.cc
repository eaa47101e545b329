#include "volume-plugin/volume_manager.h"

#include "common/file_util.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/size.h"
#include "common/strings.h"
#include "volume-plugin/fault_point.h"

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
std::string VolumeManager::VolumeDir(const std::string& name) const {
  return JoinPath(PoolDir(), name);
}
std::string VolumeManager::ImagePath(const std::string& name) const {
  return JoinPath(VolumeDir(name), "disk.img");
}
std::string VolumeManager::MountTarget(const std::string& name) const {
  return JoinPath(config_.mount_root, name);
}

VolumeManager::VolumeState VolumeManager::StateOf(const Volume& v) {
  std::lock_guard state(v.state_mu);
  return static_cast<const VolumeState&>(v);
}

Result<VolumeManager::VolumePtr> VolumeManager::Find(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) {
    return NotFound("volume " + Quote(name) + " not found");
  }
  return it->second;
}

Status VolumeManager::SaveMeta(Volume& v, const VolumeMeta& meta) {
  HELIX_TRY(
      WriteFileAtomically(files_, JoinPath(VolumeDir(meta.name), "meta.json"), MetaToJson(meta)));
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
  auto options = ParseCreateOptions(opts, {config_.default_size, config_.max_size});
  if (!options.ok()) {
    return options.error();
  }
  {
    std::unique_lock lock(mu_);
    // A second Create of the same name (a retry) waits for the first.
    creating_cv_.wait(lock, [&] { return !creating_.count(name); });
    if (auto it = volumes_.find(name); it != volumes_.end()) {
      std::lock_guard state(it->second->state_mu);
      if (it->second->meta.options == options->given) {
        return Ok();
      }
      return AlreadyExists("create volume " + Quote(name) + ": volume " + Quote(name) +
                           " already exists with other options; remove it first");
    }
    creating_.insert(name);
  }
  CreateOptions chosen = *options;
  if (!chosen.from.has_value() && !config_.default_from.empty() && !IsAnonymousName(name) &&
      name != config_.default_from) {
    chosen.from = config_.default_from;
  }
  Status s = CreateLocked(name, chosen);
  std::lock_guard lock(mu_);
  creating_.erase(name);
  creating_cv_.notify_all();
  if (!s.ok()) {
    return s.error().Wrap("create volume " + Quote(name));
  }
  return Ok();
}

Status VolumeManager::CreateLocked(const std::string& name, const CreateOptions& options) {
  HELIX_TRY(RefuseIfCritical());
  // Build the volume under a temporary name, then rename it into place: a
  // crash leaves either a .tmp- directory (removed at the next start) or a
  // whole volume, never a half-made one under its name.
  std::string tmp = JoinPath(PoolDir(), ".tmp-" + RandomHex(16));
  HELIX_TRY(files_.MakeDir(tmp, 0700));
  DirGuard guard(files_, tmp);
  FaultPoint("create.dir-made");
  std::string image = JoinPath(tmp, "disk.img");
  auto v = std::make_shared<Volume>();
  v->meta.name = name;
  v->meta.size_bytes = options.size;
  v->meta.created_at = NowRfc3339();
  v->meta.exclusive = options.exclusive;
  v->meta.options = options.given;
  v->meta.snapshot = options.snapshot;
  if (options.from.has_value() && !options.from->empty()) {
    auto method = CloneImage(*options.from, image, options, v->meta);
    if (!method.ok()) {
      return method.error();
    }
  } else {
    HELIX_TRY(files_.MakeSparseFile(image, options.size));
    FaultPoint("create.image-made");
    HELIX_TRY(ops_.formatter.MakeExt4(image));
    FaultPoint("create.formatted");
  }
  HELIX_TRY(WriteFileAtomically(files_, JoinPath(tmp, "meta.json"), MetaToJson(v->meta)));
  FaultPoint("create.meta-written");
  HELIX_TRY(files_.Rename(tmp, VolumeDir(name)));
  FaultPoint("create.renamed");
  if (auto s = files_.SyncDir(PoolDir()); !s.ok()) {
    // The rename may not survive a crash, so the create has failed: take
    // the volume back out of sight, for the guard to delete.
    auto back = files_.Rename(VolumeDir(name), tmp);
    if (back.ok()) {
      return s;
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
  std::lock_guard lock(mu_);
  volumes_[name] = std::move(v);
  return Ok();
}

Status VolumeManager::Remove(const std::string& name) {
  auto found = Find(name);
  if (!found.ok()) {
    return found.error().Wrap("remove volume " + Quote(name));
  }
  Volume& v = **found;
  std::lock_guard op(v.op_mu);
  {
    std::lock_guard state(v.state_mu);
    if (v.removed) {
      return NotFound("remove volume " + Quote(name) + ": volume " + Quote(name) + " not found");
    }
    int refs = v.meta.References();
    if (refs > 0) {
      return Busy("remove volume " + Quote(name) + ": volume is in use by " + std::to_string(refs) +
                  " container mount(s); stop the containers that use it first");
    }
    if (v.mounted) {
      return Busy("remove volume " + Quote(name) +
                  ": volume is mounted with no container reference; `helixvol release " + name +
                  "` unmounts it");
    }
  }
  // Rename first: from here on a crash leaves a .tmp- directory, which the
  // next start deletes, and never a volume with half its files.
  std::string doomed = JoinPath(PoolDir(), ".tmp-rm-" + RandomHex(16));
  if (auto s = files_.Rename(VolumeDir(name), doomed); !s.ok()) {
    return s.error().Wrap("remove volume " + Quote(name));
  }
  FaultPoint("remove.renamed");
  {
    std::lock_guard state(v.state_mu);
    v.removed = true;
  }
  {
    std::lock_guard lock(mu_);
    volumes_.erase(name);
  }
  if (auto s = files_.SyncDir(PoolDir()); !s.ok()) {
    spdlog::warn("remove volume {}: {}", name, s.error().message());
  }
  if (auto s = files_.RemoveTree(doomed); !s.ok()) {
    spdlog::warn("remove volume {}: {} (deleted at next start)", name, s.error().message());
  }
  FaultPoint("remove.deleted");
  if (config_.trim_after_remove) {
    if (auto s = files_.Trim(PoolDir()); !s.ok()) {
      spdlog::warn("remove volume {}: {} (the space stays in the pool image until fstrim)", name,
                   s.error().message());
    }
  }
  (void)files_.RemoveDir(MountTarget(name));  // there only if it was ever mounted
  spdlog::info("removed volume {}", name);
  return Ok();
}

}  // namespace helix::vol
