// Scratch space for system tests that build filesystems on real loop
// devices: sparse images, XFS and ext4 mounts, all undone at the end in the
// order the kernel needs (unmount, then detach leftovers, then delete), with
// a check that no loop device is left bound to any image the test used.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "common/spawn.h"
#include "common/unique_fd.h"
#include "fakes/temp_dir.h"
#include "volume-plugin/system/loop_devices.h"
#include "volume-plugin/system/mounter.h"

namespace helix::vol::testing {

constexpr off_t kMiB = off_t{1} << 20;

// The message of a failed Result, for INFO; empty on success.
template <typename R>
std::string ErrorText(const R& result) {
  return result.ok() ? std::string() : result.error().message();
}

// Every loop device bound to the file `id`, however many: FindByBacking
// stops at the first, and a second one is exactly the bug to catch.
inline int CountLoopsBackedBy(FileId id) {
  int count = 0;
  DIR* dir = ::opendir("/sys/block");
  REQUIRE(dir != nullptr);
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name.rfind("loop", 0) != 0 ||
        ::access(("/sys/block/" + name + "/loop").c_str(), F_OK) != 0) {
      continue;
    }
    auto status = KernelLoopDevices().Inspect("/dev/" + name);
    count += status.ok() && status->backing == id;
  }
  ::closedir(dir);
  return count;
}

// The mounts on `target`, topmost last.
inline std::vector<MountEntry> MountsOn(const std::string& target) {
  auto entries = KernelMounter().List();
  REQUIRE(entries.ok());
  std::vector<MountEntry> on;
  std::copy_if(entries->begin(), entries->end(), std::back_inserter(on),
               [&](const MountEntry& e) { return e.target == target; });
  return on;
}

class KernelScratch {
 public:
  KernelScratch() { REQUIRE(!dir_.path().empty()); }
  KernelScratch(const KernelScratch&) = delete;
  KernelScratch& operator=(const KernelScratch&) = delete;
  ~KernelScratch() { (void)Teardown(); }

  const std::string& dir() const { return dir_.path(); }
  std::string Path(const std::string& rel) const { return dir_ / rel; }

  // A sparse file of `size` bytes at `path` (anywhere, e.g. inside a mount
  // made here), remembered for the leak check.
  std::string SparseFile(const std::string& path, off_t size) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    REQUIRE(fd.valid());
    REQUIRE(::ftruncate(fd.get(), size) == 0);
    Track(path);
    return path;
  }

  // Remembers `image` for the leak check (by device and inode, taken now).
  void Track(const std::string& image) {
    auto id = IdOf(image);
    REQUIRE(id.ok());
    images_.push_back(*id);
  }

  // Remembers a mount point for Teardown to unmount.
  void TrackMount(const std::string& target) { mounts_.push_back(target); }

  // Attaches `image` and mounts it on `target` (made if missing); returns the
  // loop device, which the mount alone keeps bound.
  std::string Mount(const std::string& image, const std::string& target, const std::string& fstype,
                    const std::string& options = "") {
    REQUIRE(MakeDirs(target).ok());
    Track(image);
    auto loop = KernelLoopDevices().Attach(image, false);
    INFO(ErrorText(loop));
    REQUIRE(loop.ok());
    Status mounted = KernelMounter().Mount(loop->device, target, fstype, options);
    INFO(ErrorText(mounted));
    REQUIRE(mounted.ok());
    TrackMount(target);
    return loop->device;
  }

  // A fresh XFS with reflink=1 of `size` (sparse), mounted at dir/<name>.
  std::string XfsMount(const std::string& name, off_t size = 512 * kMiB) {
    std::string image = SparseFile(Path(name + ".img"), size);
    auto mkfs =
        RunChecked({"mkfs.xfs", "-q", "-f", "-m", "reflink=1", image}, std::chrono::seconds(120));
    INFO(ErrorText(mkfs));
    REQUIRE(mkfs.ok());
    std::string target = Path(name);
    Mount(image, target, "xfs");
    return target;
  }

  // Unmounts everything (lazily if busy), then returns the loop devices still
  // bound to the tracked images and detaches them, so the machine stays clean.
  std::vector<std::string> Teardown() {
    std::vector<std::string> leaked;
    if (done_) {
      return leaked;
    }
    done_ = true;
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
      while (::umount2(it->c_str(), 0) == 0) {
      }
      if (errno == EBUSY) {
        while (::umount2(it->c_str(), MNT_DETACH) == 0) {
        }
      }
    }
    // Innermost images last tracked: detaching them first frees the
    // filesystems that hold the outer ones.
    KernelLoopDevices loops;
    // Autoclear happens at the last close, which may be another process's
    // (anything scanning loop devices opens them): give that a moment.
    // A device still held open stays bound after LOOP_CLR_FD, hence the
    // bounded retries for images bound to more than one device.
    for (auto it = images_.rbegin(); it != images_.rend(); ++it) {
      for (int i = 0; i < 4; ++i) {
        auto found = loops.FindByBacking(*it);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (found.ok() && found->has_value() && std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          found = loops.FindByBacking(*it);
        }
        if (!found.ok() || !found->has_value()) {
          break;
        }
        const std::string& device = (*found)->device;
        if (std::find(leaked.begin(), leaked.end(), device) == leaked.end()) {
          leaked.push_back(device);
        }
        (void)loops.Detach(device);
      }
    }
    return leaked;
  }

 private:
  helix::testing::TempDir dir_;  // removed last, once nothing is mounted in it
  std::vector<FileId> images_;
  std::vector<std::string> mounts_;
  bool done_ = false;
};

// Runs a test body in its own KernelScratch, then checks for leaked loop
// devices whether the body passed or failed.
template <typename Body>
void WithKernelScratch(Body body) {
  KernelScratch scratch;
  try {
    body(scratch);
  } catch (...) {
    std::vector<std::string> leaked = scratch.Teardown();
    CHECK(leaked == std::vector<std::string>());
    throw;
  }
  std::vector<std::string> leaked = scratch.Teardown();
  INFO("loop devices left bound to this test's images");
  CHECK(leaked == std::vector<std::string>());
}

}  // namespace helix::vol::testing
