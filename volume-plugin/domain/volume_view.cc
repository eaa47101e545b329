// What Get, List and Path answer: a volume as dockerd and an operator see
// it, read without waiting behind slow work on any volume (volume_manager.h).
#include "common/file_util.h"
#include "common/size.h"
#include "volume-plugin/domain/volume_manager.h"

namespace helix::vol {

Result<std::string> VolumeManager::Path(const std::string& name) {
  HELIX_ASSIGN_OR_RETURN(VolumePtr v, registry_.Find(name));
  std::lock_guard state(v->state_mu);
  return v->mounted ? Layout().DataPath(name) : std::string();
}

Result<VolumeView> VolumeManager::Get(const std::string& name) {
  HELIX_ASSIGN_OR_RETURN(VolumePtr found, registry_.Find(name));
  VolumeState v = StateOf(*found);
  const VolumeMeta& meta = v.meta;
  const bool mounted = v.mounted;
  const PoolLayout layout = Layout();
  const std::string image = layout.ImagePath(name);
  const std::string target = layout.MountTarget(name);
  VolumeView view{name, mounted ? layout.DataPath(name) : "", meta.created_at, {}};
  nlohmann::json& s = view.status;
  s["size"] = FormatSize(meta.size_bytes);
  s["size_bytes"] = meta.size_bytes;
  std::string error = !v.broken.empty() ? v.broken : v.unsaved;
  if (auto allocated = files_.AllocatedBytes(image); allocated.ok()) {
    s["allocated_bytes"] = *allocated;
  } else if (error.empty()) {
    error = SysError("image " + image, allocated.error().sys_errno()).message();
  }
  s["mounted"] = mounted;
  s["mount_references"] = meta.References();
  s["exclusive"] = meta.exclusive;
  s["options"] = meta.options;
  s["snapshot"] = meta.snapshot;
  if (!meta.owner.empty()) {
    s["owner"] = meta.owner;
  }
  if (!meta.idmap.empty()) {
    s["idmap"] = meta.idmap;
  }
  if (!meta.clone_source.empty()) {
    s["clone_source"] = meta.clone_source;
    s["clone_method"] = meta.clone_method;
  }
  if (auto shared = ops_.cloner.SharedBytes(image); shared.ok() && shared->has_value()) {
    s["shared_bytes"] = **shared;
  }
  s["pool_clone_method"] = std::string(CloneMethodName(config_.clone_method));
  if (mounted) {
    s["loop_device"] = v.loop_device;
    if (auto used = files_.UsedBytes(target); used.ok()) {
      s["used_bytes"] = *used;
    }
    if (auto kernel = KernelView::ReadMounts(mounter_); kernel.ok()) {
      KernelView::Target on = kernel->MountsOn(target, v.loop_rdev);
      s["read_only"] = on.ours != nullptr && IsReadOnly(*on.ours) && !meta.snapshot;
      if (s["read_only"] == true && error.empty()) {
        error =
            "the filesystem stopped taking writes after a write error (ext4 remounted it "
            "read-only; a full pool does this): stop its containers, free space in the pool, "
            "then mount it again";
      }
    }
  }
  if (!error.empty()) {
    s["error"] = error;
  }
  AddPoolStatus(s);
  return view;
}

std::vector<VolumeView> VolumeManager::List() {
  std::vector<std::pair<std::string, VolumePtr>> all = registry_.All();
  const PoolLayout layout = Layout();
  std::vector<VolumeView> out;
  out.reserve(all.size());
  for (const auto& [name, v] : all) {
    std::lock_guard state(v->state_mu);
    out.push_back({name, v->mounted ? layout.DataPath(name) : "", v->meta.created_at, {}});
  }
  return out;
}

}  // namespace helix::vol
