// Loop devices through the kernel's ioctls (/dev/loop-control, /dev/loopN).
#pragma once

#include <string>

#include "common/file_util.h"
#include "common/result.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

// What the kernel says about one bound loop device.
struct LoopStatus {
  FileId backing;            // device and inode of the backing file
  std::string backing_name;  // lo_file_name as given at attach, cut to 63 bytes
  bool autoclear = false;    // detached by the kernel after the last close
  bool read_only = false;
  bool direct_io = false;  // the kernel may drop this when the backing fs cannot do O_DIRECT
};

class KernelLoopDevices : public LoopDevices {
 public:
  // Opens the image, takes a free device from /dev/loop-control and binds it
  // with LOOP_CONFIGURE in one step, so no other process ever sees it half
  // set up. Direct I/O is asked for first and dropped if the kernel refuses
  // it. Another process may take the same free device between the two
  // ioctls; that race is retried with a new device a few times.
  Result<AttachedLoop> Attach(const std::string& image, bool read_only) override;

  // Every bound loop device: /sys/block says which are bound, an ioctl on
  // each says what it is bound to. Device nodes missing from /dev are
  // created (a container's /dev may lag behind the host's loop devices).
  Result<std::vector<LoopBinding>> List() override;

  // LOOP_CLR_FD. A device that is already unbound counts as detached. The
  // kernel does not refuse a device that is still mounted or open: it marks
  // it autoclear and detaches it after the last close.
  Status Detach(const std::string& device) override;

  // LOOP_GET_STATUS64 on `device`; an unbound device is an ENXIO error.
  Result<LoopStatus> Inspect(const std::string& device);
};

}  // namespace helix::vol
