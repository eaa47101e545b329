// Ext4Formatter's Ext4Tools side (tune2fs, resize2fs) on real images, and
// the clone of a live volume: freeze, reflink, thaw, new UUID.
#include <sys/vfs.h>

#include <chrono>
#include <fstream>
#include <string>

#include "common/file_util.h"
#include "common/spawn.h"
#include "system/file_bytes.h"
#include "system/kernel_scratch.h"
#include "system/root.h"
#include "volume-plugin/system/cloner.h"
#include "volume-plugin/system/formatter.h"
#include "volume-plugin/system/freezer.h"

namespace helix::vol {
namespace {

using testing::ErrorText;
using testing::KernelScratch;
using testing::kMiB;
using testing::RandomBytes;
using testing::ReadAll;
using testing::WithKernelScratch;
using testing::WriteAt;

// From the effective set in /proc/self/status: root in a container may lack
// some (the kernel then refuses online resize with EPERM).

std::string Ext4Image(KernelScratch& s, const std::string& path, off_t size) {
  s.SparseFile(path, size);
  Status made = Ext4Formatter().MakeExt4(path);
  INFO(ErrorText(made));
  REQUIRE(made.ok());
  return path;
}

TEST_CASE("A reflink clone of a frozen mounted ext4 gets its own uuid and passes e2fsck") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string xfs = s.XfsMount("xfs");
    std::string src = Ext4Image(s, xfs + "/src.img", 64 * kMiB);
    Ext4Formatter tools;
    auto src_uuid = tools.Uuid(src);
    INFO(ErrorText(src_uuid));
    REQUIRE(src_uuid.ok());
    CHECK(src_uuid->size() == 36);

    std::string mnt = s.Path("src");
    s.Mount(src, mnt, "ext4");
    std::string data = RandomBytes(3 << 20, 11);
    WriteAt(mnt + "/data", 0, data);
    // Written but not fsynced: the freeze must flush it into the image.
    {
      UniqueFd fd(::open((mnt + "/late").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      REQUIRE(fd.valid());
      REQUIRE(::write(fd.get(), "late", 4) == 4);
    }

    KernelFreezer freezer;
    REQUIRE(freezer.Freeze(mnt).ok());
    std::string clone = xfs + "/clone.img";
    Status cloned = KernelCloner().Clone(src, clone, CloneMethod::kReflink);
    Status thawed = freezer.Thaw(mnt);
    INFO(ErrorText(cloned));
    REQUIRE(cloned.ok());
    REQUIRE(thawed.ok());
    s.Track(clone);

    Status renamed = tools.SetRandomUuid(clone);
    INFO(ErrorText(renamed));
    REQUIRE(renamed.ok());
    auto clone_uuid = tools.Uuid(clone);
    REQUIRE(clone_uuid.ok());
    CHECK(*clone_uuid != *src_uuid);

    auto fsck = Run({"e2fsck", "-fn", clone}, std::chrono::seconds(60));
    REQUIRE(fsck.ok());
    INFO(fsck->out << fsck->err);
    CHECK(fsck->exit_code == 0);

    std::string clone_mnt = s.Path("clone");
    s.Mount(clone, clone_mnt, "ext4");
    CHECK(ReadAll(clone_mnt + "/data") == data);
    CHECK(ReadAll(clone_mnt + "/late") == "late");
  });
}

TEST_CASE("Grow fills an enlarged image even after the filesystem was mounted") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string image = Ext4Image(s, s.Path("disk.img"), 64 * kMiB);
    std::string mnt = s.Path("mnt");
    s.Mount(image, mnt, "ext4");
    std::ofstream(mnt + "/kept") << "kept";
    REQUIRE(KernelMounter().Unmount(mnt).ok());  // mounted since its last check
    REQUIRE(::truncate(image.c_str(), 128 * kMiB) == 0);

    Status grown = Ext4Formatter().Grow(image);
    INFO(ErrorText(grown));
    REQUIRE(grown.ok());
    auto fsck = Run({"e2fsck", "-fn", image}, std::chrono::seconds(60));
    REQUIRE(fsck.ok());
    CHECK(fsck->exit_code == 0);
    s.Mount(image, mnt, "ext4");
    struct statfs after {};
    REQUIRE(::statfs(mnt.c_str(), &after) == 0);
    uint64_t total = after.f_blocks * after.f_bsize;
    CHECK(total > 100 * static_cast<uint64_t>(kMiB));  // was 64 MiB
    CHECK(total <= 128 * static_cast<uint64_t>(kMiB));
    CHECK(ReadAll(mnt + "/kept") == "kept");
  });
}

TEST_CASE("Grow of a file that is not a filesystem names it") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string missing = s.Path("no-such-image");
    Status grown = Ext4Formatter().Grow(missing);
    REQUIRE_FALSE(grown.ok());
    CHECK(grown.error().message().rfind("grow the filesystem in " + missing + ": \"resize2fs -f " +
                                            missing + "\" exited with status 1",
                                        0) == 0);
  });
}

}  // namespace
}  // namespace helix::vol
