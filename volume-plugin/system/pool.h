// The pool: where volume images live, and how a volume is cloned there.
//
// Clones are made by reflink (FICLONE), which costs the same whatever the
// source holds, and needs a filesystem that shares extents (XFS with
// reflink=1, btrfs). Setting POOL chooses:
//   auto     the self-managed pool if <state>/pool.img exists; else the
//            state directory's filesystem if it can reflink (probed); else,
//            when <state>/volumes already holds volumes (made before there
//            was a pool, or under POOL=copy), those by copy; else a
//            self-managed XFS pool: a sparse image <state>/pool.img of
//            POOL_SIZE, formatted with reflink=1, loop-mounted at <state>/pool
//   reflink  the state directory's filesystem, which must reflink: refuse to
//            start otherwise (for operators who manage the pool themselves)
//   copy     the state directory's filesystem, always copying
// An existing pool.img is never abandoned: reflink and copy refuse to start
// next to one, because the volumes in it would vanish from Docker's view.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

enum class CloneMethod { kReflink, kCopy };
std::string_view CloneMethodName(CloneMethod m);  // "reflink", "copy"

class Cloner {
 public:
  virtual ~Cloner() = default;
  // Makes `dst` (which must not exist; created 0600) a copy of `src`: by
  // FICLONE for kReflink, by reading and writing only the data ranges
  // (SEEK_DATA/SEEK_HOLE, holes preserved) for kCopy. Never copy_file_range:
  // on XFS and btrfs it reflinks by itself, so it is no copy there. `dst` is
  // fsynced. On failure `dst` is removed.
  virtual Status Clone(const std::string& src, const std::string& dst, CloneMethod method) = 0;
  // Bytes of `path` in extents the filesystem marks shared (FIEMAP
  // FIEMAP_EXTENT_SHARED), or nullopt when it cannot tell.
  virtual Result<std::optional<uint64_t>> SharedBytes(const std::string& path) = 0;
  // Number of extents of `path` (FIEMAP), for keeping golden images unfragmented.
  virtual Result<uint64_t> ExtentCount(const std::string& path) = 0;
};

class Freezer {
 public:
  virtual ~Freezer() = default;
  // FIFREEZE on the filesystem mounted at `mountpoint`: flushes it (ext4
  // also checkpoints its journal, so the image is clean) and blocks writers.
  virtual Status Freeze(const std::string& mountpoint) = 0;
  // FITHAW; a filesystem that is not frozen (EINVAL) counts as thawed.
  virtual Status Thaw(const std::string& mountpoint) = 0;
};

class Ext4Tools {
 public:
  virtual ~Ext4Tools() = default;
  // tune2fs -U random on an unmounted image (cheap with metadata_csum_seed).
  virtual Status SetRandomUuid(const std::string& image) = 0;
  // resize2fs -f on an unmounted, clean image (a clone of an unmounted or
  // frozen source): grows the filesystem to fill the (already enlarged)
  // file. Offline, because online growth (EXT4_IOC_RESIZE_FS) needs
  // CAP_SYS_RESOURCE, which neither a managed plugin nor every host has; -f
  // because resize2fs otherwise insists on a full fsck of any filesystem
  // mounted since its last check, which every clone of a live volume is.
  virtual Status Grow(const std::string& image) = 0;
  // The filesystem UUID of an image (for tests and Status).
  virtual Result<std::string> Uuid(const std::string& image) = 0;
};

struct PoolConfig {
  std::string state_dir;
  std::string mode = "auto";       // auto, reflink, copy
  uint64_t self_managed_size = 0;  // POOL_SIZE, for the self-managed XFS pool
};

struct PoolInfo {
  std::string volumes_dir;  // where volume directories live
  CloneMethod method;
  bool self_managed = false;  // an XFS image helixvol mounted itself
  std::string device;         // its loop device, when self-managed
};

// Decides and prepares the pool at start (see the table above). For a
// self-managed pool: creates and formats the image the first time; at every
// start reuses the mount if <state>/pool is already mounted, else the loop
// device already bound to pool.img (found by device and inode: after a
// kill -9 the volumes' ext4 mounts keep it alive, and a second loop device
// on the same XFS image would corrupt it), else attaches one; then mounts.
Result<PoolInfo> PreparePool(const PoolConfig& config, LoopDevices& loops, Mounter& mounter);

// Whether files in `dir` can be reflinked (makes two temporary files and
// tries FICLONE between them).
Result<bool> CanReflink(const std::string& dir);

}  // namespace helix::vol
