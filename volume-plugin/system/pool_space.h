// The space a pool really has: the least of what every filesystem under it
// has. A self-managed pool is XFS in a sparse image on the state directory's
// filesystem, and XFS reports its own free space (about 100 GiB for
// POOL_SIZE=100G) even when the disk under the image has 2 GiB left; a write
// that needs a new block of the image then fails below XFS, where no reserve
// helixvol keeps in XFS can see it coming. So the layers are found once, at
// start: the pool's filesystem; if that lives on a loop device, the one that
// holds the device's backing file; and so on down. Each is measured whenever
// space matters (Create, Mount, Get), and the least of them is the pool's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

struct SpaceLayer {
  std::string path;  // a directory on that filesystem
  std::string what;  // for messages: "the pool's filesystem /p", "the filesystem holding /p.img"
};

struct LayerSpace {
  SpaceLayer layer;
  uint64_t free_bytes = 0;
  uint64_t size_bytes = 0;
};

// The layers under `pool_dir`, the pool's own first. The walk goes down
// through loop devices (matched by device number, their backing files by
// device and inode) and stops where a backing file cannot be seen from here,
// as inside a managed plugin for a loop device the host set up.
std::vector<SpaceLayer> FindSpaceLayers(const std::string& pool_dir, LoopDevices& loops);

// statvfs of each layer, in order; the layer with the least free space is
// what the pool has.
Result<std::vector<LayerSpace>> MeasureSpace(const std::vector<SpaceLayer>& layers);
const LayerSpace& Least(const std::vector<LayerSpace>& measured);

// Gives the space freed in the filesystem at `dir` back to the layer under
// it (FITRIM over the whole filesystem, after syncfs so that deleted files'
// extents are free by then). For a self-managed pool, which is mounted
// without online discard: without this a Remove frees space in XFS but none
// on the disk under pool.img.
Status TrimFreeSpace(const std::string& dir);

}  // namespace helix::vol
