// PosixFileSystem against the real kernel: what the fake in
// tests/fakes/fake_file_system.h stands in for in unit tests. Mount points
// inside the pool (a tmpfs here) are where removal must stop.
#include "volume-plugin/system/file_system.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "fakes/temp_dir.h"
#include "system/root.h"

namespace helix::vol {
namespace {

using helix::testing::TempDir;

// A tmpfs mounted at `target` for the test's duration.
struct Tmpfs {
  std::string target;
  explicit Tmpfs(std::string t) : target(std::move(t)) {
    REQUIRE(MakeDirs(target).ok());
    REQUIRE(::mount("tmpfs", target.c_str(), "tmpfs", 0, "size=4m") == 0);
  }
  ~Tmpfs() { ::umount2(target.c_str(), MNT_DETACH); }
};

TEST_CASE("PosixFileSystem writes a file atomically and leaves no temporary file",
          "[system][files]") {
  REQUIRE_ROOT_OR_SKIP();
  TempDir dir;
  PosixFileSystem fs;
  REQUIRE(WriteFileAtomically(fs, dir / "meta.json", "old content, longer").ok());
  REQUIRE(WriteFileAtomically(fs, dir / "meta.json", "new").ok());
  CHECK(fs.ReadFile(dir / "meta.json").value() == "new");
  CHECK(fs.ListDir(dir.path()).value() == std::vector<std::string>{"meta.json"});
  struct stat st {};
  REQUIRE(::stat((dir / "meta.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("PosixFileSystem names the step and the path when a write fails", "[system][files]") {
  REQUIRE_ROOT_OR_SKIP();
  TempDir dir;
  PosixFileSystem fs;
  Tmpfs full(dir / "full");
  // Fill the tmpfs, then ask for more.
  REQUIRE(fs.WriteNewFile(full.target + "/filler", std::string(5 << 20, 'x'), 0644, "filler")
              .error()
              .kind() == ErrorKind::kNoSpace);
  Status s = WriteFileAtomically(fs, full.target + "/meta.json", std::string(8192, 'y'));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kNoSpace);
  CHECK(s.error().message() == "write " + full.target + "/meta.json: No space left on device");
  CHECK(fs.ListDir(full.target).value() == std::vector<std::string>{"filler"});
}

TEST_CASE("PosixFileSystem refuses to make a directory that exists", "[system][files]") {
  REQUIRE_ROOT_OR_SKIP();
  TempDir dir;
  PosixFileSystem fs;
  REQUIRE(fs.MakeDir(dir / "v", 0700).ok());
  Status s = fs.MakeDir(dir / "v", 0700);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kAlreadyExists);
  CHECK(s.error().message() == "create " + dir.path() + "/v: File exists");
  REQUIRE(fs.MakeDirs(dir / "v/a/b", 0700).ok());
  CHECK(fs.ListDir(dir / "v").value() == std::vector<std::string>{"a"});
}

TEST_CASE("PosixFileSystem renames a directory and syncs its parent", "[system][files]") {
  REQUIRE_ROOT_OR_SKIP();
  TempDir dir;
  PosixFileSystem fs;
  REQUIRE(fs.MakeDir(dir / ".tmp-1", 0700).ok());
  REQUIRE(fs.MakeSparseFile(dir / ".tmp-1/disk.img", 1ull << 30).ok());
  REQUIRE(fs.Rename(dir / ".tmp-1", dir / "v1").ok());
  REQUIRE(fs.SyncDir(dir.path()).ok());
  CHECK(fs.ListDir(dir.path()).value() == std::vector<std::string>{"v1"});
  Status s = fs.Rename(dir / ".tmp-2", dir / "v2");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        "rename " + dir.path() + "/.tmp-2 to " + dir.path() + "/v2: No such file or directory");
  CHECK(fs.SyncDir(dir / "missing").error().kind() == ErrorKind::kNotFound);
}

TEST_CASE("PosixFileSystem makes sparse images and grows them", "[system][files]") {
  REQUIRE_ROOT_OR_SKIP();
  TempDir dir;
  PosixFileSystem fs;
  REQUIRE(fs.MakeSparseFile(dir / "disk.img", 2ull << 30).ok());
  CHECK(fs.MakeSparseFile(dir / "disk.img", 1).error().kind() == ErrorKind::kAlreadyExists);
  CHECK(fs.AllocatedBytes(dir / "disk.img").value() < (1u << 20));
  REQUIRE(fs.Grow(dir / "disk.img", 3ull << 30).ok());
  struct stat st {};
  REQUIRE(::stat((dir / "disk.img").c_str(), &st) == 0);
  CHECK(st.st_size == (3ll << 30));
  CHECK(fs.IdOf(dir / "disk.img").value() == FileId{st.st_dev, st.st_ino});
}

TEST_CASE("PosixFileSystem never removes across a mount point", "[system][files]") {
  REQUIRE_ROOT_OR_SKIP();
  TempDir dir;
  PosixFileSystem fs;
  Tmpfs mounted(dir / ".tmp-rm-1/mnt");
  REQUIRE(WriteFileAtomically(fs, mounted.target + "/precious", "data").ok());
  Status s = fs.RemoveTree(dir / ".tmp-rm-1");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kBusy);
  CHECK(fs.ReadFile(mounted.target + "/precious").value() == "data");
  CHECK(fs.RemoveDir(mounted.target).error().kind() == ErrorKind::kBusy);
  CHECK(fs.UsedBytes(mounted.target).value() > 0);
  ::umount2(mounted.target.c_str(), MNT_DETACH);
  REQUIRE(fs.RemoveTree(dir / ".tmp-rm-1").ok());
  CHECK(fs.ListDir(dir.path()).value().empty());
  REQUIRE(fs.RemoveTree(dir / ".tmp-rm-1").ok());  // already gone is fine
}

}  // namespace
}  // namespace helix::vol
