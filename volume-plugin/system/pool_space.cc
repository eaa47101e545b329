// The free space of every layer under the pool, and FITRIM (pool_space.h).
#include "volume-plugin/system/pool_space.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include "common/file_util.h"
#include "common/log.h"
#include "common/unique_fd.h"

namespace helix::vol {
namespace {

// Loop devices on loop devices on ...: a handful at most in practice; the
// bound only guards against a cycle the kernel would not allow anyway.
constexpr int kMaxLayers = 8;

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::vector<SpaceLayer> FindSpaceLayers(const std::string& pool_dir, LoopDevices& loops) {
  std::vector<SpaceLayer> layers = {{pool_dir, "the pool's filesystem " + pool_dir}};
  auto bound = loops.List();
  if (!bound.ok()) {
    spdlog::warn("pool space: {}; measuring the pool's own filesystem only",
                 bound.error().message());
    return layers;
  }
  std::string dir = pool_dir;
  for (int depth = 1; depth < kMaxLayers; ++depth) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
      break;
    }
    auto it = std::find_if(bound->begin(), bound->end(),
                           [&](const LoopBinding& b) { return b.rdev == st.st_dev; });
    if (it == bound->end()) {
      break;  // not on a loop device: the bottom layer
    }
    auto backing = IdOf(it->backing_path);
    if (!backing.ok() || !(*backing == it->backing)) {
      spdlog::info("pool space: {} is on {}, whose backing file {} is out of sight here", dir,
                   it->device, it->backing_path);
      break;
    }
    dir = Parent(it->backing_path);
    layers.push_back({dir, "the filesystem holding " + it->backing_path});
  }
  return layers;
}

Result<std::vector<LayerSpace>> MeasureSpace(const std::vector<SpaceLayer>& layers) {
  std::vector<LayerSpace> out;
  for (const SpaceLayer& l : layers) {
    struct statvfs vfs {};
    if (::statvfs(l.path.c_str(), &vfs) != 0) {
      return HELIX_SYS_ERROR("statvfs " + l.path);
    }
    out.push_back({l, static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize,
                   static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize});
  }
  return out;
}

const LayerSpace& Least(const std::vector<LayerSpace>& measured) {
  return *std::min_element(
      measured.begin(), measured.end(),
      [](const LayerSpace& a, const LayerSpace& b) { return a.free_bytes < b.free_bytes; });
}

Status TrimFreeSpace(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return HELIX_SYS_ERROR("trim " + dir + ": open");
  }
  // XFS frees a deleted file's extents in the background; syncfs and statfs
  // both wait for that, and FITRIM only sees extents that are free.
  struct statvfs vfs {};
  if (::syncfs(fd.get()) != 0 || ::fstatvfs(fd.get(), &vfs) != 0) {
    return HELIX_SYS_ERROR("trim " + dir + ": sync");
  }
  fstrim_range range{0, std::numeric_limits<uint64_t>::max(), 0};
  if (::ioctl(fd.get(), FITRIM, &range) != 0) {
    return HELIX_SYS_ERROR("trim " + dir);
  }
  return Ok();
}

}  // namespace helix::vol
