// KernelCloner and CanReflink against real filesystems: the ext4 under /tmp,
// which cannot reflink, and a fresh XFS with reflink=1 on a loop device.
#include "volume-plugin/system/cloner.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "fakes/temp_dir.h"
#include "system/file_bytes.h"
#include "system/kernel_scratch.h"
#include "system/root.h"
#include "volume-plugin/system/pool.h"

namespace helix::vol {
namespace {

using testing::AllocatedBytes;
using testing::ErrorText;
using testing::KernelScratch;
using testing::kMiB;
using testing::RandomBytes;
using testing::ReadAll;
using testing::WithKernelScratch;
using testing::WriteAt;

constexpr off_t kFileSize = 64 * kMiB;

// Data ranges of the test file; everything between them is a hole. One is
// not aligned to a MiB and one ends at the end of the file.
const std::vector<std::pair<off_t, size_t>> kRanges = {
    {0, 1 << 20},         {5 * kMiB + 4096, 3 << 20},         {20 * kMiB, 256 << 10},
    {40 * kMiB, 2 << 20}, {kFileSize - (64 << 10), 64 << 10},
};

uint64_t DataBytes() {
  uint64_t total = 0;
  for (const auto& r : kRanges) {
    total += r.second;
  }
  return total;
}

// A 64 MiB sparse file of random data ranges and holes.
std::string MakeHoleyFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  REQUIRE(fd.valid());
  REQUIRE(::ftruncate(fd.get(), kFileSize) == 0);
  fd.Reset();
  uint64_t seed = 1;
  for (const auto& [offset, size] : kRanges) {
    WriteAt(path, offset, RandomBytes(size, seed++));
  }
  return path;
}

TEST_CASE("CanReflink is false on ext4 and true on XFS made with reflink=1") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    auto on_ext4 = CanReflink(s.dir());
    INFO(ErrorText(on_ext4));
    REQUIRE(on_ext4.ok());
    CHECK_FALSE(*on_ext4);

    std::string xfs = s.XfsMount("xfs");
    auto on_xfs = CanReflink(xfs);
    INFO(ErrorText(on_xfs));
    REQUIRE(on_xfs.ok());
    CHECK(*on_xfs);
    // The probe's files are gone: nothing but what mkfs.xfs leaves.
    auto left = ListDir(xfs);
    REQUIRE(left.ok());
    CHECK(left->empty());
  });
}

TEST_CASE("A reflink clone on XFS has the same bytes and shares extents until written") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string xfs = s.XfsMount("xfs");
    std::string src = MakeHoleyFile(xfs + "/src");
    std::string dst = xfs + "/dst";
    KernelCloner cloner;
    Status cloned = cloner.Clone(src, dst, CloneMethod::kReflink);
    INFO(ErrorText(cloned));
    REQUIRE(cloned.ok());
    std::string original = ReadAll(src);
    CHECK(ReadAll(dst) == original);

    auto src_shared = cloner.SharedBytes(src);
    auto dst_shared = cloner.SharedBytes(dst);
    REQUIRE(src_shared.ok());
    REQUIRE(dst_shared.ok());
    REQUIRE(src_shared->has_value());
    REQUIRE(dst_shared->has_value());
    CHECK(**src_shared == DataBytes());
    CHECK(**dst_shared == DataBytes());

    // Copy on write, both ways.
    std::string clone_before = ReadAll(dst);
    WriteAt(dst, 0, std::string(4096, 'c'));
    CHECK(ReadAll(src) == original);
    WriteAt(src, 40 * kMiB, std::string(4096, 's'));
    std::string clone_now = ReadAll(dst);
    CHECK(clone_now.substr(0, 4096) == std::string(4096, 'c'));
    CHECK(clone_now.substr(4096) == clone_before.substr(4096));
    auto after = cloner.SharedBytes(dst);
    REQUIRE(after.ok());
    CHECK(**after == DataBytes() - 2 * 4096);
  });
}

TEST_CASE("A copy clone on XFS shares no extents and keeps the holes") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string xfs = s.XfsMount("xfs");
    std::string src = MakeHoleyFile(xfs + "/src");
    std::string dst = xfs + "/dst";
    KernelCloner cloner;
    Status cloned = cloner.Clone(src, dst, CloneMethod::kCopy);
    INFO(ErrorText(cloned));
    REQUIRE(cloned.ok());
    CHECK(ReadAll(dst) == ReadAll(src));
    // Zero shared bytes proves a real copy: copy_file_range would have
    // reflinked here without saying so.
    auto shared = cloner.SharedBytes(dst);
    REQUIRE(shared.ok());
    REQUIRE(shared->has_value());
    CHECK(**shared == 0);
    CHECK(AllocatedBytes(dst) == AllocatedBytes(src));
    CHECK(AllocatedBytes(dst) < 8 * static_cast<uint64_t>(kMiB));
    auto extents = cloner.ExtentCount(dst);
    REQUIRE(extents.ok());
    CHECK(*extents == kRanges.size());

    struct stat st;
    REQUIRE(::stat(dst.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(st.st_size == kFileSize);
  });
}

TEST_CASE("A copy clone on ext4 has the same bytes and keeps the holes") {
  REQUIRE_ROOT_OR_SKIP();
  helix::testing::TempDir dir;
  std::string src = MakeHoleyFile(dir / "src");
  std::string dst = dir / "dst";
  KernelCloner cloner;
  Status cloned = cloner.Clone(src, dst, CloneMethod::kCopy);
  INFO(ErrorText(cloned));
  REQUIRE(cloned.ok());
  CHECK(ReadAll(dst) == ReadAll(src));
  CHECK(AllocatedBytes(dst) >= DataBytes());
  CHECK(AllocatedBytes(dst) < 8 * static_cast<uint64_t>(kMiB));
  auto shared = cloner.SharedBytes(dst);
  REQUIRE(shared.ok());
  REQUIRE(shared->has_value());
  CHECK(**shared == 0);
}

TEST_CASE("A reflink clone on ext4 fails naming both files and leaves no destination") {
  REQUIRE_ROOT_OR_SKIP();
  helix::testing::TempDir dir;
  std::string src = MakeHoleyFile(dir / "src");
  std::string dst = dir / "dst";
  Status cloned = KernelCloner().Clone(src, dst, CloneMethod::kReflink);
  REQUIRE_FALSE(cloned.ok());
  CHECK(cloned.error().sys_errno() == EOPNOTSUPP);
  CHECK(cloned.error().message() == "reflink " + src + " to " + dst + ": Operation not supported");
  CHECK(::access(dst.c_str(), F_OK) != 0);
}

TEST_CASE("Clone leaves an existing destination alone and creates none for a missing source") {
  REQUIRE_ROOT_OR_SKIP();
  helix::testing::TempDir dir;
  std::string src = dir / "src";
  std::string dst = dir / "dst";
  WriteAt(src, 0, "source");
  WriteAt(dst, 0, "keep");
  KernelCloner cloner;
  Status exists = cloner.Clone(src, dst, CloneMethod::kCopy);
  REQUIRE_FALSE(exists.ok());
  CHECK(exists.error().kind() == ErrorKind::kAlreadyExists);
  CHECK(exists.error().message() ==
        "copy " + src + " to " + dst + ": create " + dst + ": File exists");
  CHECK(ReadAll(dst) == "keep");

  std::string missing = dir / "missing";
  std::string fresh = dir / "fresh";
  Status absent = cloner.Clone(missing, fresh, CloneMethod::kCopy);
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.error().kind() == ErrorKind::kNotFound);
  CHECK(absent.error().message() ==
        "copy " + missing + " to " + fresh + ": open " + missing + ": No such file or directory");
  CHECK(::access(fresh.c_str(), F_OK) != 0);
}

// Not run by default (hidden tag): prints how long a clone of an image with
// 1 GiB of data takes each way, source read from disk, not from the cache.
TEST_CASE("Clone timing of 1 GiB of data, reflink against copy", "[.timing]") {
  REQUIRE_ROOT_OR_SKIP();
  WithKernelScratch([](KernelScratch& s) {
    std::string xfs = s.XfsMount("xfs", 4096 * kMiB);
    std::string src = xfs + "/src";
    {
      UniqueFd fd(::open(src.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      REQUIRE(fd.valid());
      REQUIRE(::ftruncate(fd.get(), 2048 * kMiB) == 0);
      std::string chunk = RandomBytes(1 << 20, 7);
      for (off_t i = 0; i < 1024; ++i) {  // every other MiB: data, hole, data...
        REQUIRE(::pwrite(fd.get(), chunk.data(), chunk.size(), i * 2 * kMiB) == 1 << 20);
      }
      REQUIRE(::fsync(fd.get()) == 0);
      REQUIRE(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) == 0);
    }
    KernelCloner cloner;
    for (CloneMethod method : {CloneMethod::kReflink, CloneMethod::kCopy}) {
      std::string dst = xfs + "/" + std::string(CloneMethodName(method));
      auto start = std::chrono::steady_clock::now();
      Status cloned = cloner.Clone(src, dst, method);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      INFO(ErrorText(cloned));
      REQUIRE(cloned.ok());
      WARN(CloneMethodName(method) << " clone of 1 GiB of data: " << ms << " ms");
      UniqueFd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
      REQUIRE(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) == 0);
    }
  });
}

}  // namespace
}  // namespace helix::vol
