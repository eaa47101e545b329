// PoolLayout: the pool's file names, spelled once (pool_layout.h).
#include "volume-plugin/domain/pool_layout.h"

#include "common/file_util.h"
#include "common/strings.h"

namespace helix::vol {
namespace {

constexpr std::string_view kStagingPrefix = ".tmp-";
constexpr const char* kImage = "disk.img";
constexpr const char* kMeta = "meta.json";
constexpr const char* kData = "data";

}  // namespace

std::string PoolLayout::VolumeDir(const std::string& name) const {
  return JoinPath(pool_dir_, name);
}
std::string PoolLayout::ImagePath(const std::string& name) const {
  return ImageIn(VolumeDir(name));
}
std::string PoolLayout::MetaPath(const std::string& name) const { return MetaIn(VolumeDir(name)); }
std::string PoolLayout::MountTarget(const std::string& name) const {
  return JoinPath(mount_root_, name);
}
std::string PoolLayout::DataPath(const std::string& name) const {
  return DataIn(MountTarget(name));
}

std::string PoolLayout::NewStagingDir() const {
  return JoinPath(pool_dir_, std::string(kStagingPrefix) + RandomHex(16));
}
std::string PoolLayout::NewRemovalDir() const {
  return JoinPath(pool_dir_, std::string(kStagingPrefix) + "rm-" + RandomHex(16));
}

std::string PoolLayout::ImageIn(const std::string& volume_dir) {
  return JoinPath(volume_dir, kImage);
}
std::string PoolLayout::MetaIn(const std::string& volume_dir) {
  return JoinPath(volume_dir, kMeta);
}
std::string PoolLayout::DataIn(const std::string& mount_target) {
  return JoinPath(mount_target, kData);
}

bool PoolLayout::IsStaging(std::string_view entry) { return entry.starts_with(kStagingPrefix); }

bool PoolLayout::IsMetaTemp(std::string_view entry) {
  return entry.starts_with(AtomicTempPrefix(kMeta));
}

}  // namespace helix::vol
