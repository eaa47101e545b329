// VolumeRegistry: the volumes by name, with their locks (volume_registry.h).
#include "volume-plugin/domain/volume_registry.h"

#include "common/quote.h"

namespace helix::vol {

VolumeState StateOf(const Volume& v) {
  std::lock_guard state(v.state_mu);
  return static_cast<const VolumeState&>(v);
}

Result<VolumePtr> VolumeRegistry::Find(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) {
    return NotFound("volume " + Quote(name) + " not found");
  }
  return it->second;
}

Result<LockedVolume> VolumeRegistry::FindAndLock(const std::string& name,
                                                 std::string_view context) {
  auto found = Find(name);
  if (!found.ok()) {
    return context.empty() ? found.error() : found.error().Wrap(context);
  }
  VolumePtr v = std::move(*found);
  std::unique_lock op(v->op_mu);
  {
    std::lock_guard state(v->state_mu);
    if (v->removed) {
      Error gone = NotFound("volume " + Quote(name) + " not found");
      return context.empty() ? gone : gone.Wrap(context);
    }
  }
  return LockedVolume{std::move(v), std::move(op)};
}

VolumePtr VolumeRegistry::BeginCreate(const std::string& name) {
  std::unique_lock lock(mu_);
  creating_cv_.wait(lock, [&] { return !creating_.count(name); });
  if (auto it = volumes_.find(name); it != volumes_.end()) {
    return it->second;
  }
  creating_.insert(name);
  return nullptr;
}

void VolumeRegistry::EndCreate(const std::string& name, VolumePtr made) {
  std::lock_guard lock(mu_);
  if (made != nullptr) {
    volumes_[name] = std::move(made);
  }
  creating_.erase(name);
  creating_cv_.notify_all();
}

void VolumeRegistry::Add(const std::string& name, VolumePtr v) {
  std::lock_guard lock(mu_);
  volumes_[name] = std::move(v);
}

void VolumeRegistry::Erase(const std::string& name) {
  std::lock_guard lock(mu_);
  volumes_.erase(name);
}

std::vector<std::pair<std::string, VolumePtr>> VolumeRegistry::All() {
  std::lock_guard lock(mu_);
  return {volumes_.begin(), volumes_.end()};
}

size_t VolumeRegistry::Size() {
  std::lock_guard lock(mu_);
  return volumes_.size();
}

}  // namespace helix::vol
