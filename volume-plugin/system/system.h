// The kernel behind narrow interfaces. VolumeManager sees only these and the
// pool's files behind file_system.h, so unit tests can hand it fakes that
// record what was asked and fail on demand; the real implementations
// (loop_devices.cc, mounter.cc, formatter.cc, file_system.cc) are tested
// against the real kernel in tests/system.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace helix::vol {

// A loop device just attached. The descriptor keeps it alive: the device is
// attached with autoclear, so the kernel detaches it when the last user goes
// away, and until it is mounted that last user is this descriptor.
struct AttachedLoop {
  std::string device;  // "/dev/loop3"
  UniqueFd fd;
  dev_t rdev = 0;  // the device's number, as a mount of it shows in mountinfo
};

// One bound loop device, as the kernel describes it.
struct LoopBinding {
  std::string device;  // "/dev/loop3"
  dev_t rdev = 0;      // its device number, which mountinfo shows for a mount of it
  FileId backing;      // device and inode of the backing file
  // The backing file's path as this process sees it (sysfs backing_file),
  // with " (deleted)" after it once the file is unlinked.
  std::string backing_path;
  bool read_only = false;
  bool autoclear = false;  // set by helixvol and by `mount -o loop`, not by plain losetup
};

class LoopDevices {
 public:
  virtual ~LoopDevices() = default;

  // Binds `image` to a free loop device with autoclear, with direct I/O where
  // the backing filesystem allows it, read-only when asked.
  virtual Result<AttachedLoop> Attach(const std::string& image, bool read_only) = 0;

  // Every bound loop device, read from the kernel in one pass. Recovery
  // takes one such list for all volumes: with hundreds of devices bound, a
  // pass per volume made a start-up take seconds.
  virtual Result<std::vector<LoopBinding>> List() = 0;

  // Unbinds `device` (LOOP_CLR_FD). Used only for orphans found at recovery;
  // in normal operation autoclear detaches after the last unmount.
  virtual Status Detach(const std::string& device) = 0;

  // The loop device whose backing file is `backing` (matched by device and
  // inode, because inside a managed plugin the backing path differs from the
  // host's), or nullopt when there is none. One pass of List().
  Result<std::optional<LoopBinding>> FindByBacking(FileId backing);
};

struct MountEntry {
  std::string source;  // "/dev/loop3"
  std::string target;  // mount point, as this process sees it
  std::string fstype;
  std::string options;  // per-mount options ("rw,noatime")
  // The filesystem's device number (mountinfo's major:minor): for a mount
  // of a loop device, that device's rdev, whatever path `source` names.
  dev_t device = 0;
  // The superblock's options ("rw,errors=remount-ro"): "ro" or
  // "emergency_ro" here once ext4 has remounted itself read-only.
  std::string super_options;
};

class Mounter {
 public:
  virtual ~Mounter() = default;
  virtual Status Mount(const std::string& source, const std::string& target,
                       const std::string& fstype, const std::string& options) = 0;
  virtual Status Unmount(const std::string& target) = 0;
  // Stacks an idmapped clone of the mount at `path` on `path` (`-o idmap`,
  // idmap_mount.h); `idmap` is the option's value, already checked.
  virtual Status IdmapBind(const std::string& path, const std::string& idmap) = 0;
  // What /proc/self/mountinfo says now.
  virtual Result<std::vector<MountEntry>> List() = 0;
};

class Formatter {
 public:
  virtual ~Formatter() = default;
  // Makes an ext4 filesystem in the existing sparse file `image`, filling it.
  virtual Status MakeExt4(const std::string& image) = 0;
};

}  // namespace helix::vol
