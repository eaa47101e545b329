// The kernel behind narrow interfaces. VolumeManager sees only these, so unit
// tests can hand it fakes that record what was asked and fail on demand; the
// real implementations (loop_devices.cc, mounter.cc, formatter.cc) are tested
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
};

class LoopDevices {
 public:
  virtual ~LoopDevices() = default;

  // Binds `image` to a free loop device with autoclear, with direct I/O where
  // the backing filesystem allows it, read-only when asked.
  virtual Result<AttachedLoop> Attach(const std::string& image, bool read_only) = 0;

  // The loop device whose backing file is `backing` (matched by device and
  // inode, because inside a managed plugin the backing path differs from the
  // host's), or nullopt when there is none.
  virtual Result<std::optional<std::string>> FindByBacking(FileId backing) = 0;

  // Unbinds `device` (LOOP_CLR_FD). Used only for orphans found at recovery;
  // in normal operation autoclear detaches after the last unmount.
  virtual Status Detach(const std::string& device) = 0;
};

struct MountEntry {
  std::string source;  // "/dev/loop3"
  std::string target;  // mount point, as this process sees it
  std::string fstype;
  std::string options;  // per-mount options ("rw,noatime")
};

class Mounter {
 public:
  virtual ~Mounter() = default;
  virtual Status Mount(const std::string& source, const std::string& target,
                       const std::string& fstype, const std::string& options) = 0;
  virtual Status Unmount(const std::string& target) = 0;
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
