#include "authz-plugin/policy/policy_store.h"

#include <spdlog/spdlog.h>

namespace helix::authz {

PolicyStore::Stamp PolicyStore::Look() const {
  struct stat st;
  Stamp s;
  if (::stat(path_.c_str(), &st) == 0) {
    s = {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
  }
  return s;
}

Status PolicyStore::Load() {
  Stamp stamp = Look();
  auto policy = LoadPolicy(path_);
  if (!policy.ok()) return policy.error();
  std::lock_guard lock(mu_);
  current_ = *policy;
  tried_ = stamp;
  return Ok();
}

std::shared_ptr<const Policy> PolicyStore::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

bool PolicyStore::ReloadIfChanged(bool force) {
  Stamp stamp = Look();
  {
    std::lock_guard lock(mu_);
    if (!force && stamp == tried_) return false;
    tried_ = stamp;
  }
  auto policy = LoadPolicy(path_);
  if (!policy.ok()) {
    spdlog::error("policy reload failed, keeping the last good policy: {}",
                  policy.error().message());
    return false;
  }
  std::lock_guard lock(mu_);
  current_ = *policy;
  spdlog::info("policy reloaded from {}", path_);
  return true;
}

}  // namespace helix::authz
