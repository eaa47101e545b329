// KernelLoopDevices and KernelMounter against the real kernel: sparse ext4
// images in a private temp directory, real loop devices, real mounts. Every
// test ends by checking that no loop device is still bound to its images.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "common/spawn.h"
#include "common/unique_fd.h"
#include "system/kernel_scratch.h"
#include "system/root.h"
#include "volume-plugin/system/loop_devices.h"
#include "volume-plugin/system/mounter.h"

namespace helix::vol {
namespace {

constexpr off_t kImageSize = off_t{64} << 20;
constexpr long kExt4SuperMagic = 0xEF53;

using testing::ErrorText;
using testing::KernelScratch;
using testing::WithKernelScratch;

// A sparse file of kImageSize in the scratch directory, with an ext4
// filesystem unless `format` is false; remembered for the leak check.
std::string Image(KernelScratch& s, const std::string& name, bool format = true) {
  std::string path = s.SparseFile(s.Path(name), kImageSize);
  if (format) {
    auto mkfs = RunChecked({"mkfs.ext4", "-q", "-F", path}, std::chrono::seconds(60));
    INFO(ErrorText(mkfs));
    REQUIRE(mkfs.ok());
  }
  return path;
}

// A directory to mount on; unmounted at teardown if still mounted.
std::string MountPoint(KernelScratch& s, const std::string& name) {
  std::string path = s.Path(name);
  REQUIRE(::mkdir(path.c_str(), 0755) == 0);
  s.TrackMount(path);
  return path;
}

bool IsMounted(const std::string& target) {
  auto entries = KernelMounter().List();
  REQUIRE(entries.ok());
  return std::any_of(entries->begin(), entries->end(),
                     [&](const MountEntry& e) { return e.target == target; });
}

Status WriteFile(const std::string& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    int err = errno;
    return SysError("create " + path, err);
  }
  if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()) ||
      ::fsync(fd.get()) != 0) {
    int err = errno;
    return SysError("write " + path, err);
  }
  return Ok();
}

// A child process whose working directory is `dir` until this is destroyed,
// which pins the mount holding `dir` the way a shell inside a volume would.
class ProcessInside {
 public:
  explicit ProcessInside(const std::string& dir) {
    int ready[2];
    int hold[2];
    REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(hold, O_CLOEXEC) == 0);
    UniqueFd ready_read(ready[0]), ready_write(ready[1]), hold_read(hold[0]);
    hold_write_.Reset(hold[1]);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      hold_write_.Reset();
      char byte = ::chdir(dir.c_str()) == 0 ? 'y' : 'n';
      if (::write(ready_write.get(), &byte, 1) != 1) {
        ::_exit(1);
      }
      // Returns at EOF, when the parent lets go.
      ::_exit(::read(hold_read.get(), &byte, 1) == 0 ? 0 : 1);
    }
    ready_write.Reset();
    char byte = 0;
    REQUIRE(::read(ready_read.get(), &byte, 1) == 1);
    REQUIRE(byte == 'y');
  }
  ProcessInside(const ProcessInside&) = delete;
  ProcessInside& operator=(const ProcessInside&) = delete;
  ~ProcessInside() {
    hold_write_.Reset();
    if (pid_ > 0) {
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
  UniqueFd hold_write_;
};

TEST_CASE("Attach binds the image with autoclear and Inspect reports its device and inode") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    KernelLoopDevices loops;
    auto loop = loops.Attach(image, /*read_only=*/false);
    INFO(ErrorText(loop));
    REQUIRE(loop.ok());
    CHECK(loop->device.rfind("/dev/loop", 0) == 0);
    CHECK(loop->fd.valid());

    auto status = loops.Inspect(loop->device);
    REQUIRE(status.ok());
    auto id = IdOf(image);
    REQUIRE(id.ok());
    CHECK(status->backing == *id);
    CHECK(status->backing_name == image);
    CHECK(status->autoclear);
    CHECK_FALSE(status->read_only);
  });
}

TEST_CASE("Attach keeps direct I/O on for an image on ext4") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    struct statfs fs {};
    REQUIRE(::statfs(s.dir().c_str(), &fs) == 0);
    if (fs.f_type != kExt4SuperMagic) {
      WARN("SKIPPED: " << s.dir() << " is not on ext4; direct I/O support varies elsewhere");
      return;
    }
    std::string image = Image(s, "disk.img");
    KernelLoopDevices loops;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());
    auto status = loops.Inspect(loop->device);
    REQUIRE(status.ok());
    CHECK(status->direct_io);
  });
}

TEST_CASE("Attach of a missing image names the image") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    auto loop = KernelLoopDevices().Attach(s.dir() + "/nope.img", false);
    REQUIRE_FALSE(loop.ok());
    CHECK(loop.error().kind() == ErrorKind::kNotFound);
    CHECK(loop.error().sys_errno() == ENOENT);
    CHECK(loop.error().message() ==
          "attach " + s.dir() + "/nope.img: open: No such file or directory");
  });
}

TEST_CASE("Concurrent attaches each get their own device") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    // Threads race between LOOP_CTL_GET_FREE and LOOP_CONFIGURE; the losers
    // must retry on a fresh device rather than fail or share one.
    constexpr int kCount = 8;
    std::vector<std::string> images;
    for (int i = 0; i < kCount; ++i) {
      images.push_back(Image(s, "disk" + std::to_string(i) + ".img", /*format=*/false));
    }
    KernelLoopDevices loops;
    std::vector<std::optional<Result<AttachedLoop>>> results(kCount);
    {
      std::vector<std::thread> threads;
      for (int i = 0; i < kCount; ++i) {
        threads.emplace_back([&, i] { results[i].emplace(loops.Attach(images[i], false)); });
      }
      for (std::thread& t : threads) {
        t.join();
      }
    }
    std::set<std::string> devices;
    for (int i = 0; i < kCount; ++i) {
      const Result<AttachedLoop>& loop = *results[i];
      INFO(ErrorText(loop));
      REQUIRE(loop.ok());
      devices.insert(loop->device);
      auto status = loops.Inspect(loop->device);
      REQUIRE(status.ok());
      CHECK(status->backing == *IdOf(images[i]));
    }
    CHECK(devices.size() == kCount);
  });
}

TEST_CASE("FindByBacking finds the device by file id and nothing for another file") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img", /*format=*/false);
    std::string other = Image(s, "other.img", /*format=*/false);
    KernelLoopDevices loops;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());

    auto found = loops.FindByBacking(*IdOf(image));
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    const LoopBinding& b = **found;
    CHECK(b.device == loop->device);
    struct stat st;
    REQUIRE(::stat(loop->device.c_str(), &st) == 0);
    CHECK(b.rdev == st.st_rdev);
    CHECK(b.backing == *IdOf(image));
    CHECK(b.backing_path == image);
    CHECK(b.autoclear);
    CHECK_FALSE(b.read_only);

    auto none = loops.FindByBacking(*IdOf(other));
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
  });
}

TEST_CASE("A mounted image is listed with its loop device and fstype until unmounted") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());

    Status mounted = mounter.Mount(loop->device, target, "ext4", "rw,noatime");
    INFO(ErrorText(mounted));
    REQUIRE(mounted.ok());
    Status written = WriteFile(target + "/hello", "hello");
    INFO(ErrorText(written));
    CHECK(written.ok());

    auto entries = mounter.List();
    REQUIRE(entries.ok());
    auto entry = std::find_if(entries->begin(), entries->end(),
                              [&](const MountEntry& e) { return e.target == target; });
    REQUIRE(entry != entries->end());
    CHECK(entry->source == loop->device);
    CHECK(entry->fstype == "ext4");
    CHECK(entry->options == "rw,noatime");

    Status unmounted = mounter.Unmount(target);
    INFO(ErrorText(unmounted));
    REQUIRE(unmounted.ok());
    CHECK_FALSE(IsMounted(target));
    CHECK(::access((target + "/hello").c_str(), F_OK) != 0);
  });
}

TEST_CASE("The loop device detaches itself after the last unmount and descriptor close") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());
    REQUIRE(mounter.Mount(loop->device, target, "ext4", "").ok());

    // The mount alone keeps the device bound once our descriptor is gone.
    loop->fd.Reset();
    auto held = loops.FindByBacking(*IdOf(image));
    REQUIRE(held.ok());
    CHECK(held->has_value());

    REQUIRE(mounter.Unmount(target).ok());
    auto gone = loops.FindByBacking(*IdOf(image));
    REQUIRE(gone.ok());
    CHECK_FALSE(gone->has_value());
  });
}

TEST_CASE("Closing the descriptor of an unmounted attach detaches the device") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img", /*format=*/false);
    KernelLoopDevices loops;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());
    loop->fd.Reset();
    auto gone = loops.FindByBacking(*IdOf(image));
    REQUIRE(gone.ok());
    CHECK_FALSE(gone->has_value());
  });
}

TEST_CASE("Detach of a mounted device takes effect at the unmount") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());
    REQUIRE(mounter.Mount(loop->device, target, "ext4", "").ok());
    loop->fd.Reset();

    Status detached = loops.Detach(loop->device);
    INFO(ErrorText(detached));
    CHECK(detached.ok());
    auto still = loops.FindByBacking(*IdOf(image));
    REQUIRE(still.ok());
    CHECK(still->has_value());
    CHECK(WriteFile(target + "/after-detach", "x").ok());

    REQUIRE(mounter.Unmount(target).ok());
    auto gone = loops.FindByBacking(*IdOf(image));
    REQUIRE(gone.ok());
    CHECK_FALSE(gone->has_value());
  });
}

TEST_CASE("A read-only attach mounted ro refuses writes with EROFS") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, /*read_only=*/true);
    REQUIRE(loop.ok());
    auto status = loops.Inspect(loop->device);
    REQUIRE(status.ok());
    CHECK(status->read_only);

    REQUIRE(mounter.Mount(loop->device, target, "ext4", "ro").ok());
    UniqueFd fd(::open((target + "/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    int err = errno;
    CHECK_FALSE(fd.valid());
    CHECK(err == EROFS);
    REQUIRE(mounter.Unmount(target).ok());
  });
}

TEST_CASE("A read-write mount of a read-only device fails instead of going read-only") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, /*read_only=*/true);
    REQUIRE(loop.ok());

    Status mounted = mounter.Mount(loop->device, target, "ext4", "rw");
    REQUIRE_FALSE(mounted.ok());
    CHECK(mounted.error().sys_errno() == EACCES);
    CHECK(mounted.error().message() ==
          "mount " + loop->device + " on " + target + ": Permission denied");
    CHECK_FALSE(IsMounted(target));
  });
}

TEST_CASE("Unmount of a mount with an open descriptor inside is busy with EBUSY") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());
    REQUIRE(mounter.Mount(loop->device, target, "ext4", "").ok());
    {
      UniqueFd inside(::open((target + "/lost+found").c_str(), O_RDONLY | O_CLOEXEC));
      REQUIRE(inside.valid());
      Status busy = mounter.Unmount(target);
      REQUIRE_FALSE(busy.ok());
      CHECK(busy.error().kind() == ErrorKind::kBusy);
      CHECK(busy.error().sys_errno() == EBUSY);
      CHECK(busy.error().message() == "unmount " + target + ": Device or resource busy");
      CHECK(IsMounted(target));
    }
    REQUIRE(mounter.Unmount(target).ok());
  });
}

TEST_CASE("Unmount of a mount that is a process's working directory is busy with EBUSY") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Image(s, "disk.img");
    std::string target = MountPoint(s, "mnt");
    KernelLoopDevices loops;
    KernelMounter mounter;
    auto loop = loops.Attach(image, false);
    REQUIRE(loop.ok());
    REQUIRE(mounter.Mount(loop->device, target, "ext4", "").ok());
    {
      ProcessInside shell(target);
      Status busy = mounter.Unmount(target);
      REQUIRE_FALSE(busy.ok());
      CHECK(busy.error().kind() == ErrorKind::kBusy);
      CHECK(busy.error().sys_errno() == EBUSY);
      CHECK(IsMounted(target));
    }
    REQUIRE(mounter.Unmount(target).ok());
  });
}

TEST_CASE("Unmount of a directory that is not a mount point fails with EINVAL") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string target = MountPoint(s, "mnt");
    Status unmounted = KernelMounter().Unmount(target);
    REQUIRE_FALSE(unmounted.ok());
    CHECK(unmounted.error().sys_errno() == EINVAL);
    CHECK(unmounted.error().message() == "unmount " + target + ": Invalid argument");
  });
}

TEST_CASE("Mount of a missing device names source and target") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string target = MountPoint(s, "mnt");
    std::string source = s.dir() + "/no-such-device";
    Status mounted = KernelMounter().Mount(source, target, "ext4", "");
    REQUIRE_FALSE(mounted.ok());
    CHECK(mounted.error().kind() == ErrorKind::kNotFound);
    CHECK(mounted.error().sys_errno() == ENOENT);
    CHECK(mounted.error().message() ==
          "mount " + source + " on " + target + ": No such file or directory");
    CHECK_FALSE(IsMounted(target));
  });
}

}  // namespace
}  // namespace helix::vol
