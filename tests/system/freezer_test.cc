// KernelFreezer against a mounted ext4 on a real loop device.
#include "volume-plugin/system/freezer.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "system/file_bytes.h"
#include "system/kernel_scratch.h"
#include "system/root.h"
#include "volume-plugin/system/formatter.h"

namespace helix::vol {
namespace {

using testing::ErrorText;
using testing::KernelScratch;
using testing::kMiB;
using testing::ReadAll;
using testing::WithKernelScratch;

// Thaws at scope exit, so a failed check never leaves the filesystem frozen
// (and the writer thread, and teardown, stuck behind it).
class ThawOnExit {
 public:
  explicit ThawOnExit(std::string mountpoint) : mountpoint_(std::move(mountpoint)) {}
  ~ThawOnExit() { (void)KernelFreezer().Thaw(mountpoint_); }

 private:
  std::string mountpoint_;
};

std::string MountedExt4(KernelScratch& s) {
  std::string image = s.SparseFile(s.Path("disk.img"), 64 * kMiB);
  Status made = Ext4Formatter().MakeExt4(image);
  INFO(ErrorText(made));
  REQUIRE(made.ok());
  std::string target = s.Path("mnt");
  s.Mount(image, target, "ext4");
  return target;
}

TEST_CASE("Freeze blocks a writer until Thaw lets it finish") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string mnt = MountedExt4(s);
    KernelFreezer freezer;
    Status frozen = freezer.Freeze(mnt);
    INFO(ErrorText(frozen));
    REQUIRE(frozen.ok());

    std::atomic<bool> written{false};
    std::atomic<bool> failed{false};
    // Declared before the guard: the guard thaws first, then this joins.
    std::jthread writer([&] {
      UniqueFd fd(::open((mnt + "/during-freeze").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      failed = !fd.valid() || ::write(fd.get(), "x", 1) != 1 || ::fsync(fd.get()) != 0;
      written = true;
    });
    ThawOnExit guard(mnt);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(written);

    Status thawed = freezer.Thaw(mnt);
    INFO(ErrorText(thawed));
    REQUIRE(thawed.ok());
    writer.join();
    CHECK(written);
    CHECK_FALSE(failed);
    CHECK(ReadAll(mnt + "/during-freeze") == "x");
  });
}

TEST_CASE("Thaw of a filesystem that is not frozen succeeds") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string mnt = MountedExt4(s);
    Status thawed = KernelFreezer().Thaw(mnt);
    INFO(ErrorText(thawed));
    CHECK(thawed.ok());
  });
}

TEST_CASE("Freeze of a missing directory names it") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string missing = s.Path("missing");
    Status frozen = KernelFreezer().Freeze(missing);
    REQUIRE_FALSE(frozen.ok());
    CHECK(frozen.error().kind() == ErrorKind::kNotFound);
    CHECK(frozen.error().message() == "freeze " + missing + ": No such file or directory");
  });
}

}  // namespace
}  // namespace helix::vol
