// KernelLoopDevices: attach, list and detach through the loop ioctls (loop_devices.h).
#include "volume-plugin/system/loop_devices.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>

namespace helix::vol {
namespace {

// Another process can take the device LOOP_CTL_GET_FREE handed us before our
// LOOP_CONFIGURE lands; a handful of fresh tries is plenty for that race.
constexpr int kMaxAttachAttempts = 10;

std::string DevicePath(unsigned n) { return "/dev/loop" + std::to_string(n); }

// "loop12" -> 12; anything else (loop-control, vda) -> nullopt.
std::optional<unsigned> LoopNumber(std::string_view name) {
  constexpr std::string_view kPrefix = "loop";
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) {
    return std::nullopt;
  }
  name.remove_prefix(kPrefix.size());
  unsigned n = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec != std::errc() || end != name.data() + name.size()) {
    return std::nullopt;
  }
  return n;
}

// The kernel reports lo_device in its own encoding (new_encode_dev). glibc's
// major()/minor() decode it correctly because glibc's dev_t layout agrees
// with the kernel's in the low 32 bits; re-encoding makes it comparable with
// st_dev whatever the major number.
dev_t FromKernelDev(uint64_t kernel_dev) { return makedev(major(kernel_dev), minor(kernel_dev)); }

// sysfs is the authority on a loop device's numbers: with max_part set the
// minor is not N, so "7:N" would be a guess.
Result<dev_t> SysfsDevNumber(unsigned n) {
  std::string path = "/sys/block/loop" + std::to_string(n) + "/dev";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return SysError("read " + path, err);
  }
  char buf[32] = {};
  ssize_t len = ::read(fd.get(), buf, sizeof(buf) - 1);
  if (len < 0) {
    int err = errno;
    return SysError("read " + path, err);
  }
  unsigned maj = 0;
  unsigned min = 0;
  if (std::sscanf(buf, "%u:%u", &maj, &min) != 2) {
    return Error(ErrorKind::kSystem, "read " + path + ": unexpected content \"" +
                                         std::string(buf, static_cast<size_t>(len)) + "\"");
  }
  return makedev(maj, min);
}

// Opens /dev/loopN, creating the node when /dev does not have it yet.
Result<UniqueFd> OpenLoopNode(unsigned n, int flags) {
  std::string path = DevicePath(n);
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.valid()) {
    return fd;
  }
  if (int err = errno; err != ENOENT) {
    return SysError("open " + path, err);
  }
  auto dev = SysfsDevNumber(n);
  if (!dev.ok()) {
    return dev.error().Wrap("create " + path);
  }
  if (::mknod(path.c_str(), S_IFBLK | 0660, *dev) != 0) {
    if (int err = errno; err != EEXIST) {
      return SysError("create " + path, err);
    }
  }
  fd.Reset(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return SysError("open " + path, err);
  }
  return fd;
}

// Binds `image_fd` to the loop device `loop_fd`; returns 0 or an errno.
int Configure(int loop_fd, int image_fd, const std::string& image, bool read_only) {
  loop_config config{};
  config.fd = static_cast<uint32_t>(image_fd);
  // 0 lets the kernel pick the block size; with direct I/O it follows the
  // backing filesystem's, which is what O_DIRECT needs.
  config.block_size = 0;
  config.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
  if (read_only) {
    config.info.lo_flags |= LO_FLAGS_READ_ONLY;
  }
  std::memcpy(config.info.lo_file_name, image.data(),
              std::min(image.size(), sizeof(config.info.lo_file_name) - 1));
  if (::ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0) {
    return 0;
  }
  if (errno != EINVAL) {
    return errno;
  }
  // The backing filesystem cannot do O_DIRECT at this block size: buffered
  // I/O still works, only with the page cache counted twice.
  config.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
  if (::ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0) {
    return 0;
  }
  return errno;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

Result<AttachedLoop> KernelLoopDevices::Attach(const std::string& image, bool read_only) {
  // The loop device takes its own reference to the file, so this descriptor
  // only has to live until LOOP_CONFIGURE.
  UniqueFd image_fd(::open(image.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
  if (!image_fd.valid()) {
    int err = errno;
    return SysError("attach " + image + ": open", err);
  }
  UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control.valid() && errno == ENOENT) {
    // A container's /dev (a nested engine's plugin) may lack the node; its
    // number is fixed by the kernel (misc 10:237, LOOP_CTRL_MINOR).
    if (::mknod("/dev/loop-control", S_IFCHR | 0660, makedev(10, 237)) == 0 || errno == EEXIST) {
      control.Reset(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    }
  }
  if (!control.valid()) {
    int err = errno;
    return SysError("attach " + image + ": open /dev/loop-control", err);
  }
  std::string device;
  for (int attempt = 0; attempt < kMaxAttachAttempts; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) {
      int err = errno;
      return SysError("attach " + image + ": get a free loop device", err);
    }
    device = DevicePath(static_cast<unsigned>(n));
    auto loop = OpenLoopNode(static_cast<unsigned>(n), O_RDWR);
    if (!loop.ok()) {
      return loop.error().Wrap("attach " + image);
    }
    int err = Configure(loop->get(), image_fd.get(), image, read_only);
    if (err == 0) {
      struct stat st {};
      if (::fstat(loop->get(), &st) != 0) {
        return HELIX_SYS_ERROR("attach " + image + ": stat " + device);
      }
      return AttachedLoop{device, std::move(*loop), st.st_rdev};
    }
    if (err != EBUSY) {
      return SysError("attach " + image + " to " + device, err);
    }
  }
  return SysError("attach " + image + " to " + device, EBUSY);
}

Result<std::vector<LoopBinding>> KernelLoopDevices::List() {
  const std::string what = "list loop devices";
  std::unique_ptr<DIR, DirCloser> dir(::opendir("/sys/block"));
  if (!dir) {
    int err = errno;
    return SysError(what + ": open /sys/block", err);
  }
  std::vector<LoopBinding> bound;
  while (dirent* entry = ::readdir(dir.get())) {
    std::optional<unsigned> n = LoopNumber(entry->d_name);
    if (!n) {
      continue;
    }
    // The "loop" attribute directory exists only while a file is bound, so
    // unbound devices are passed over without opening them.
    std::string attrs = std::string("/sys/block/") + entry->d_name + "/loop";
    if (::access(attrs.c_str(), F_OK) != 0) {
      continue;
    }
    LoopBinding b;
    b.device = DevicePath(*n);
    auto fd = OpenLoopNode(*n, O_RDONLY);
    if (!fd.ok()) {
      // Removed (LOOP_CTL_REMOVE) since readdir saw it.
      if (fd.error().sys_errno() == ENXIO || fd.error().sys_errno() == ENOENT) {
        continue;
      }
      return fd.error().Wrap(what);
    }
    loop_info64 info{};
    struct stat st {};
    if (::ioctl(fd->get(), LOOP_GET_STATUS64, &info) != 0 || ::fstat(fd->get(), &st) != 0) {
      int err = errno;
      if (err == ENXIO) {  // detached since the check above
        continue;
      }
      return SysError(what + ": inspect " + b.device, err);
    }
    b.rdev = st.st_rdev;
    b.backing = FileId{FromKernelDev(info.lo_device), static_cast<ino_t>(info.lo_inode)};
    b.read_only = (info.lo_flags & LO_FLAGS_READ_ONLY) != 0;
    b.autoclear = (info.lo_flags & LO_FLAGS_AUTOCLEAR) != 0;
    // lo_file_name keeps only 63 bytes of the path; sysfs has all of it.
    if (auto path = ReadFile(attrs + "/backing_file"); path.ok()) {
      b.backing_path = path->substr(0, path->find_last_not_of('\n') + 1);
    }
    bound.push_back(std::move(b));
  }
  return bound;
}

Status KernelLoopDevices::Detach(const std::string& device) {
  UniqueFd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    if (err == ENXIO) {  // the device itself is gone, so nothing is bound
      return Ok();
    }
    return SysError("detach " + device, err);
  }
  if (::ioctl(fd.get(), LOOP_CLR_FD, 0) != 0) {
    if (int err = errno; err != ENXIO) {
      return SysError("detach " + device, err);
    }
  }
  return Ok();
}

Result<LoopStatus> KernelLoopDevices::Inspect(const std::string& device) {
  UniqueFd fd(::open(device.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return SysError("inspect " + device, err);
  }
  loop_info64 info{};
  if (::ioctl(fd.get(), LOOP_GET_STATUS64, &info) != 0) {
    int err = errno;
    return SysError("inspect " + device, err);
  }
  LoopStatus status;
  status.backing = FileId{FromKernelDev(info.lo_device), static_cast<ino_t>(info.lo_inode)};
  const char* name = reinterpret_cast<const char*>(info.lo_file_name);
  status.backing_name.assign(name, ::strnlen(name, sizeof(info.lo_file_name)));
  status.autoclear = (info.lo_flags & LO_FLAGS_AUTOCLEAR) != 0;
  status.read_only = (info.lo_flags & LO_FLAGS_READ_ONLY) != 0;
  status.direct_io = (info.lo_flags & LO_FLAGS_DIRECT_IO) != 0;
  return status;
}

Result<std::optional<LoopBinding>> LoopDevices::FindByBacking(FileId backing) {
  HELIX_ASSIGN_OR_RETURN(auto all, List());
  for (LoopBinding& b : all) {
    if (b.backing == backing) {
      return std::optional<LoopBinding>(std::move(b));
    }
  }
  return std::optional<LoopBinding>();
}

}  // namespace helix::vol
