// KernelFreezer: FIFREEZE and FITHAW (freezer.h).
#include "volume-plugin/system/freezer.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <cerrno>

#include "common/unique_fd.h"

namespace helix::vol {
namespace {

// 0 or the errno of opening `mountpoint` or of the ioctl on it.
int IoctlOn(const std::string& mountpoint, unsigned long request) {
  UniqueFd fd(::open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return errno;
  }
  return ::ioctl(fd.get(), request, 0) == 0 ? 0 : errno;
}

}  // namespace

Status KernelFreezer::Freeze(const std::string& mountpoint) {
  if (int err = IoctlOn(mountpoint, FIFREEZE); err != 0) {
    return SysError("freeze " + mountpoint, err);
  }
  return Ok();
}

Status KernelFreezer::Thaw(const std::string& mountpoint) {
  // EINVAL: not frozen, which is what a thaw wants anyway (a retry after a
  // thaw that did land, or a freeze that never did).
  if (int err = IoctlOn(mountpoint, FITHAW); err != 0 && err != EINVAL) {
    return SysError("thaw " + mountpoint, err);
  }
  return Ok();
}

}  // namespace helix::vol
