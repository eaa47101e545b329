// The self-managed XFS pool: a sparse image under the state directory,
// formatted with reflink=1 and loop-mounted, for when the state directory's
// own filesystem cannot reflink. Used by PreparePool.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "volume-plugin/system/pool.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

// mkfs.xfs -m reflink=1 on an existing file (mkfs.xfs refuses under 300 MiB).
Status MakeXfs(const std::string& image);

// Makes `image`, a sparse file of `size` bytes formatted as XFS, in `state`.
// It is built under a temporary name and renamed into place, so once `image`
// exists it is always a complete filesystem; a temporary left by a crash is
// simply made again.
Status CreatePoolImage(const std::string& state, const std::string& image, uint64_t size);

// Makes sure `image` is mounted at <state>/pool and returns the pool there:
// volumes in <state>/pool/volumes, cloned by reflink. Reuses a mount already
// at <state>/pool, else the loop device already bound to `image`, else
// attaches one; see MountPool in the .cc for why never a second device.
Result<PoolInfo> OpenSelfManagedPool(const std::string& state, const std::string& image,
                                     LoopDevices& loops, Mounter& mounter);

}  // namespace helix::vol
