#include "common/file_util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace helix {
namespace {

// A fresh directory under /tmp, removed with everything in it afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/helix-file-util-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)RemoveTree(path); }
  std::string operator/(const std::string& name) const { return JoinPath(path, name); }
};

void Touch(const std::string& path, const std::string& data = "x") {
  REQUIRE(AtomicWriteFile(path, data).ok());
}

std::vector<std::string> Names(const std::string& dir) {
  auto names = ListDir(dir);
  REQUIRE(names.ok());
  return *names;
}

TEST_CASE("AtomicWriteFile creates the file with its content and mode", "[common]") {
  TempDir dir;
  REQUIRE(AtomicWriteFile(dir / "meta.json", "{}", 0600).ok());
  CHECK(ReadFile(dir / "meta.json").value() == "{}");
  struct stat st;
  REQUIRE(::stat((dir / "meta.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("AtomicWriteFile replaces the content and leaves no temporary file", "[common]") {
  TempDir dir;
  Touch(dir / "meta.json", "old content, longer than the new one");
  REQUIRE(AtomicWriteFile(dir / "meta.json", "new").ok());
  CHECK(ReadFile(dir / "meta.json").value() == "new");
  CHECK(Names(dir.path) == std::vector<std::string>{"meta.json"});
}

TEST_CASE("AtomicWriteFile names the file when its directory is missing", "[common]") {
  TempDir dir;
  Status s = AtomicWriteFile(dir / "missing/meta.json", "{}");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kNotFound);
  CHECK(s.error().message() ==
        "write " + dir.path + "/missing/meta.json: No such file or directory");
}

TEST_CASE("AtomicWriteFile removes its temporary file when the rename fails", "[common]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir / "meta.json/inside").ok());  // a non-empty directory in the way
  Status s = AtomicWriteFile(dir / "meta.json", "{}");
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.error().message(), Catch::StartsWith("rename " + dir.path + "/.meta.json.tmp-"));
  CHECK_THAT(s.error().message(),
             Catch::EndsWith(" to " + dir.path + "/meta.json: Is a directory"));
  CHECK(Names(dir.path) == std::vector<std::string>{"meta.json"});
}

TEST_CASE("ReadFile returns the whole content, binary and large", "[common]") {
  TempDir dir;
  std::string data(300000, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(i % 251);
  }
  Touch(dir / "blob", data);
  CHECK(ReadFile(dir / "blob").value() == data);
}

TEST_CASE("ReadFile names a missing file", "[common]") {
  auto r = ReadFile("/tmp/helix-no-such-dir/meta.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().message() == "open /tmp/helix-no-such-dir/meta.json: No such file or directory");
}

TEST_CASE("FsyncDir syncs a directory and names a missing one", "[common]") {
  TempDir dir;
  CHECK(FsyncDir(dir.path).ok());
  Status s = FsyncDir(dir / "gone");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "open " + dir.path + "/gone: No such file or directory");
}

TEST_CASE("MakeDirs creates every missing level and accepts existing ones", "[common]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir / "a/b//c/").ok());
  struct stat st;
  REQUIRE(::stat((dir / "a/b/c").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK(MakeDirs(dir / "a/b").ok());
  CHECK(MakeDirs(dir.path).ok());
}

TEST_CASE("MakeDirs refuses a file in the way", "[common]") {
  TempDir dir;
  Touch(dir / "file");
  Status s = MakeDirs(dir / "file/sub");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "mkdir " + dir.path + "/file: Not a directory");
}

TEST_CASE("RemoveTree removes nested directories and files", "[common]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir / "tree/a/b/c").ok());
  Touch(dir / "tree/top");
  Touch(dir / "tree/a/b/c/deep");
  REQUIRE(::mkfifo((dir / "tree/a/fifo").c_str(), 0600) == 0);
  REQUIRE(RemoveTree(dir / "tree").ok());
  CHECK(Names(dir.path).empty());
}

TEST_CASE("RemoveTree removes symlinks without following them out of the tree", "[common]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir / "outside/sub").ok());
  Touch(dir / "outside/keep");
  Touch(dir / "outside/sub/keep");
  REQUIRE(MakeDirs(dir / "tree/inner").ok());
  REQUIRE(::symlink((dir / "outside").c_str(), (dir / "tree/to-dir").c_str()) == 0);
  REQUIRE(::symlink((dir / "outside/keep").c_str(), (dir / "tree/inner/to-file").c_str()) == 0);
  REQUIRE(RemoveTree(dir / "tree").ok());
  CHECK(Names(dir.path) == std::vector<std::string>{"outside"});
  CHECK(Names(dir / "outside") == std::vector<std::string>{"keep", "sub"});
  CHECK(Names(dir / "outside/sub") == std::vector<std::string>{"keep"});
}

TEST_CASE("RemoveTree given a symlink removes only the link", "[common]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir / "real").ok());
  Touch(dir / "real/keep");
  REQUIRE(::symlink((dir / "real").c_str(), (dir / "link").c_str()) == 0);
  REQUIRE(RemoveTree(dir / "link").ok());
  CHECK(Names(dir.path) == std::vector<std::string>{"real"});
  CHECK(Names(dir / "real") == std::vector<std::string>{"keep"});
}

TEST_CASE("RemoveTree succeeds when the path is already gone", "[common]") {
  TempDir dir;
  CHECK(RemoveTree(dir / "never-was").ok());
}

TEST_CASE("ListDir lists entries sorted, without . and ..", "[common]") {
  TempDir dir;
  Touch(dir / "b");
  Touch(dir / ".hidden");
  REQUIRE(MakeDirs(dir / "a").ok());
  CHECK(Names(dir.path) == std::vector<std::string>{".hidden", "a", "b"});
}

TEST_CASE("ListDir names a missing directory", "[common]") {
  TempDir dir;
  auto r = ListDir(dir / "gone");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kNotFound);
  CHECK(r.error().message() == "list " + dir.path + "/gone: No such file or directory");
}

TEST_CASE("FreeBytes reports space on an existing filesystem", "[common]") {
  TempDir dir;
  auto free = FreeBytes(dir.path);
  REQUIRE(free.ok());
  CHECK(*free > 0);
  auto missing = FreeBytes(dir / "gone");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "statvfs " + dir.path + "/gone: No such file or directory");
}

TEST_CASE("IdOf is equal for hard links and differs between files", "[common]") {
  TempDir dir;
  Touch(dir / "one");
  Touch(dir / "two");
  REQUIRE(::link((dir / "one").c_str(), (dir / "also-one").c_str()) == 0);
  CHECK(IdOf(dir / "one").value() == IdOf(dir / "also-one").value());
  CHECK_FALSE(IdOf(dir / "one").value() == IdOf(dir / "two").value());
  auto missing = IdOf(dir / "gone");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "stat " + dir.path + "/gone: No such file or directory");
}

TEST_CASE("JoinPath puts exactly one slash between the parts", "[common]") {
  CHECK(JoinPath("/var/lib", "pool") == "/var/lib/pool");
  CHECK(JoinPath("/var/lib/", "pool") == "/var/lib/pool");
  CHECK(JoinPath("/var/lib", "/pool") == "/var/lib/pool");
  CHECK(JoinPath("/", "pool") == "/pool");
  CHECK(JoinPath("rel", "x/y") == "rel/x/y");
  CHECK(JoinPath("", "pool") == "pool");
  CHECK(JoinPath("/var", "") == "/var");
}

}  // namespace
}  // namespace helix
