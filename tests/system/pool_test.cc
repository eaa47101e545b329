// PreparePool against the real kernel: the choice of pool by the state
// directory's filesystem, and the self-managed XFS pool across restarts,
// including a kill -9 that leaves its filesystem alive but unmounted.
#include "volume-plugin/system/pool.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "system/file_bytes.h"
#include "system/kernel_scratch.h"
#include "system/root.h"
#include "volume-plugin/system/formatter.h"
#include "volume-plugin/system/loop_devices.h"
#include "volume-plugin/system/mounter.h"

namespace helix::vol {
namespace {

using testing::CountLoopsBackedBy;
using testing::ErrorText;
using testing::KernelScratch;
using testing::kMiB;
using testing::MountsOn;
using testing::ReadAll;
using testing::WithKernelScratch;
using testing::WriteAt;

constexpr uint64_t kPoolSize = 512 * static_cast<uint64_t>(kMiB);

// PreparePool with the real kernel, registering what a self-managed pool
// mounts with the scratch so that teardown undoes it.
Result<PoolInfo> Prepare(KernelScratch& s, const PoolConfig& config) {
  KernelLoopDevices loops;
  KernelMounter mounter;
  auto info = PreparePool(config, loops, mounter);
  if (info.ok() && info->self_managed) {
    s.Track(config.state_dir + "/pool.img");
    s.TrackMount(config.state_dir + "/pool");
  }
  return info;
}

PoolConfig Config(const std::string& state, const std::string& mode, uint64_t size = kPoolSize) {
  PoolConfig config;
  config.state_dir = state;
  config.mode = mode;
  config.self_managed_size = size;
  return config;
}

TEST_CASE("PreparePool in copy mode keeps volumes in the state directory") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    auto info = Prepare(s, Config(state, "copy"));
    INFO(ErrorText(info));
    REQUIRE(info.ok());
    CHECK(info->volumes_dir == state + "/volumes");
    CHECK(info->method == CloneMethod::kCopy);
    CHECK_FALSE(info->self_managed);
    CHECK(info->device.empty());
    struct stat st;
    CHECK(::stat(info->volumes_dir.c_str(), &st) == 0);
    CHECK(::access((state + "/pool.img").c_str(), F_OK) != 0);
  });
}

TEST_CASE("PreparePool in reflink mode refuses a state directory on ext4") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    auto info = Prepare(s, Config(state, "reflink"));
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().kind() == ErrorKind::kInvalidArgument);
    CHECK(info.error().message() == "setting POOL=reflink: the state directory " + state +
                                        " (ext4) cannot reflink; put it on XFS with reflink=1 "
                                        "or btrfs, or use POOL=auto");
  });
}

TEST_CASE("PreparePool in reflink and auto mode uses a state directory that can reflink") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.XfsMount("xfs") + "/state";
    for (const char* mode : {"reflink", "auto"}) {
      INFO("POOL=" << mode);
      auto info = Prepare(s, Config(state, mode));
      INFO(ErrorText(info));
      REQUIRE(info.ok());
      CHECK(info->volumes_dir == state + "/volumes");
      CHECK(info->method == CloneMethod::kReflink);
      CHECK_FALSE(info->self_managed);
      CHECK(::access((state + "/pool.img").c_str(), F_OK) != 0);
    }
  });
}

TEST_CASE("PreparePool starts on a full XFS state directory, which it cannot probe") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string xfs = s.XfsMount("xfs", 320 * kMiB);
    std::string state = xfs + "/state";
    REQUIRE(MakeDirs(state + "/volumes").ok());
    UniqueFd fill(::open((xfs + "/fill").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(fill.valid());
    // Big steps, then smaller ones, until not one more block fits.
    off_t end = 0;
    for (off_t step = 64 * kMiB; step >= 4096; step /= 2) {
      while (::fallocate(fill.get(), 0, end, step) == 0) {
        end += step;
      }
      REQUIRE(errno == ENOSPC);
    }
    fill.Reset();
    auto probe = CanReflink(state);
    REQUIRE_FALSE(probe.ok());
    CHECK(probe.error().kind() == ErrorKind::kNoSpace);

    for (const char* mode : {"reflink", "auto"}) {
      INFO("POOL=" << mode);
      auto info = Prepare(s, Config(state, mode));
      INFO(ErrorText(info));
      REQUIRE(info.ok());
      CHECK(info->volumes_dir == state + "/volumes");
      CHECK(info->method == CloneMethod::kReflink);
    }
  });
}

TEST_CASE("PreparePool in auto mode with a POOL_SIZE under 300MiB names POOL_SIZE") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    auto info = Prepare(s, Config(state, "auto", 100 * static_cast<uint64_t>(kMiB)));
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().kind() == ErrorKind::kInvalidArgument);
    CHECK(info.error().message() == "setting POOL_SIZE=100MiB: the state directory " + state +
                                        " (ext4) cannot reflink, so helixvol makes its own XFS "
                                        "pool there, which needs at least 300MiB");
    CHECK(::access((state + "/pool.img").c_str(), F_OK) != 0);
  });
}

TEST_CASE("PreparePool in auto mode keeps volumes already in the state directory, by copy") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    REQUIRE(MakeDirs(state + "/volumes/old").ok());
    auto info = Prepare(s, Config(state, "auto"));
    INFO(ErrorText(info));
    REQUIRE(info.ok());
    CHECK(info->volumes_dir == state + "/volumes");
    CHECK(info->method == CloneMethod::kCopy);
    CHECK_FALSE(info->self_managed);
    CHECK(::access((state + "/pool.img").c_str(), F_OK) != 0);
  });
}

TEST_CASE("PreparePool in auto mode on ext4 makes an XFS pool and reuses its mount on restart") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    std::string image = state + "/pool.img";
    auto info = Prepare(s, Config(state, "auto"));
    INFO(ErrorText(info));
    REQUIRE(info.ok());
    CHECK(info->volumes_dir == state + "/pool/volumes");
    CHECK(info->method == CloneMethod::kReflink);
    CHECK(info->self_managed);
    struct stat st;
    REQUIRE(::stat(image.c_str(), &st) == 0);
    CHECK(st.st_size == static_cast<off_t>(kPoolSize));
    CHECK(static_cast<uint64_t>(st.st_blocks) * 512 < kPoolSize / 4);  // sparse
    CHECK(::access((state + "/.pool.img.tmp").c_str(), F_OK) != 0);
    std::vector<MountEntry> mounts = MountsOn(state + "/pool");
    REQUIRE(mounts.size() == 1);
    CHECK(mounts[0].fstype == "xfs");
    CHECK(mounts[0].source == info->device);
    auto can = CanReflink(info->volumes_dir);
    REQUIRE(can.ok());
    CHECK(*can);

    auto again = Prepare(s, Config(state, "auto"));
    INFO(ErrorText(again));
    REQUIRE(again.ok());
    CHECK(again->device == info->device);
    CHECK(again->volumes_dir == info->volumes_dir);
    CHECK(MountsOn(state + "/pool").size() == 1);
    CHECK(CountLoopsBackedBy(*IdOf(image)) == 1);

    // An existing pool holds the volumes: no other mode may hide them.
    auto copy = Prepare(s, Config(state, "copy"));
    REQUIRE_FALSE(copy.ok());
    CHECK(copy.error().message() == "setting POOL=copy: " + image +
                                        " holds a self-managed pool whose volumes this mode "
                                        "would not see; use POOL=auto");
  });
}

TEST_CASE("PreparePool after a clean stop mounts the pool image again with its data") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    std::string image = state + "/pool.img";
    auto info = Prepare(s, Config(state, "auto"));
    INFO(ErrorText(info));
    REQUIRE(info.ok());
    WriteAt(info->volumes_dir + "/marker", 0, "before the stop");
    REQUIRE(KernelMounter().Unmount(state + "/pool").ok());
    CHECK(CountLoopsBackedBy(*IdOf(image)) == 0);  // autoclear

    auto again = Prepare(s, Config(state, "auto", 0));  // POOL_SIZE is not needed any more
    INFO(ErrorText(again));
    REQUIRE(again.ok());
    CHECK(again->self_managed);
    CHECK(ReadAll(again->volumes_dir + "/marker") == "before the stop");
    CHECK(CountLoopsBackedBy(*IdOf(image)) == 1);
  });
}

TEST_CASE("PreparePool after a kill -9 reuses the pool's loop device that a volume kept alive") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string state = s.Path("state");
    std::string image = state + "/pool.img";
    auto info = Prepare(s, Config(state, "auto"));
    INFO(ErrorText(info));
    REQUIRE(info.ok());
    WriteAt(info->volumes_dir + "/marker", 0, "before the kill");

    // A volume in the pool, mounted: its loop device holds disk.img open.
    std::string volume = info->volumes_dir + "/v1";
    REQUIRE(MakeDirs(volume).ok());
    std::string disk = s.SparseFile(volume + "/disk.img", 64 * kMiB);
    REQUIRE(Ext4Formatter().MakeExt4(disk).ok());
    std::string volume_mnt = s.Path("v1");
    s.Mount(disk, volume_mnt, "ext4");
    WriteAt(volume_mnt + "/inside", 0, "volume data");

    // A managed plugin's mount namespace dies with it: the pool's mount goes,
    // its filesystem stays, held by the volume's loop device.
    REQUIRE(::umount2((state + "/pool").c_str(), MNT_DETACH) == 0);
    CHECK(MountsOn(state + "/pool").empty());
    auto held = KernelLoopDevices().FindByBacking(*IdOf(image));
    REQUIRE(held.ok());
    REQUIRE(held->has_value());
    CHECK((*held)->device == info->device);

    auto again = Prepare(s, Config(state, "auto"));
    INFO(ErrorText(again));
    REQUIRE(again.ok());
    CHECK(again->device == info->device);
    CHECK(CountLoopsBackedBy(*IdOf(image)) == 1);
    CHECK(ReadAll(again->volumes_dir + "/marker") == "before the kill");
    // The same live filesystem: what the volume writes now shows in the pool.
    WriteAt(volume_mnt + "/after", 0, "still works");
    CHECK(ReadAll(volume_mnt + "/inside") == "volume data");
    REQUIRE(::access((again->volumes_dir + "/v1/disk.img").c_str(), F_OK) == 0);
  });
}

}  // namespace
}  // namespace helix::vol
