// Mount reference rules: exclusivity and counting (mount_references.h).
#include "volume-plugin/domain/mount_references.h"

namespace helix::vol {

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

Status CheckMayMount(const VolumeMeta& meta, const std::string& id, const std::string& context) {
  if (!meta.mount_refs.count(id) && !meta.mount_refs.empty() && meta.exclusive && !meta.snapshot) {
    return Busy(context + ": in use by another container (mount ID " +
                ShortId(meta.mount_refs.begin()->first) +
                "); a data root is exclusive because two Docker engines on one data root "
                "corrupt it (create the volume with -o exclusive=false to share it)");
  }
  return Ok();
}

void AddReference(VolumeMeta& meta, const std::string& id) { meta.mount_refs[id]++; }

bool DropReference(VolumeMeta& meta, const std::string& id) {
  auto it = meta.mount_refs.find(id);
  if (it == meta.mount_refs.end()) {
    return false;
  }
  if (--it->second == 0) {
    meta.mount_refs.erase(it);
  }
  return true;
}

std::vector<std::string> ReleaseReferences(VolumeMeta& meta, const std::string& id) {
  std::vector<std::string> dropped;
  if (id.empty()) {
    for (const auto& [ref, count] : meta.mount_refs) {
      dropped.push_back(ref);
    }
    meta.mount_refs.clear();
  } else if (meta.mount_refs.erase(id)) {
    dropped.push_back(id);
  }
  return dropped;
}

bool ShouldUnmount(const VolumeMeta& meta, bool mounted) {
  return meta.mount_refs.empty() && mounted;
}

}  // namespace helix::vol
