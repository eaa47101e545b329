// `-o idmap` through the helixvol binary on the real kernel: data/ is an
// idmapped mount stacked on the volume's own, files stored as uid 0 show as
// the mapped host uid and what that uid writes is stored as 0, and the mount
// is found again after a kill -9 and goes with the volume's.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "common/file_util.h"
#include "common/spawn.h"
#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::PluginProcess;
using nlohmann::json;

namespace {

uid_t UidOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_uid;
}

// The mountinfo lines whose mount point is `path`.
std::vector<std::string> MountLines(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mp;
    fields >> id >> parent >> dev >> root >> mp;
    if (mp == path) out.push_back(line);
  }
  return out;
}

// What the filesystem itself stores as the owner of `inside` (a path in the
// ext4), read from the image by debugfs, not through any mount.
std::string StoredUid(const std::string& image, const std::string& inside) {
  ::sync();
  auto r = helix::Run({"debugfs", "-R", "stat " + inside, image}, std::chrono::seconds(30));
  REQUIRE(r.ok());
  auto at = r->out.find("User:");
  REQUIRE(at != std::string::npos);
  std::istringstream rest(r->out.substr(at + 5));
  std::string uid;
  rest >> uid;
  return uid;
}

}  // namespace

TEST_CASE("idmap exposes data/ through an idmapped mount that survives a kill -9",
          "[plugin][idmap]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(
      p.Call("Create", {{"Name", "m1"}, {"Opts", {{"size", "64M"}, {"idmap", "0:200000:65536"}}}})
          .ok());
  CHECK(p.Status("m1")["idmap"] == "0:200000:65536");
  std::string mp = (*p.Call("Mount", {{"Name", "m1"}, {"ID", "a"}}))["Mountpoint"];
  auto lines = MountLines(mp);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("idmapped") != std::string::npos);
  CHECK(UidOf(mp) == 200000);  // root on disk, the mapped root through the mount

  // The mapped root writes; the filesystem stores uid 0. (It must reach the
  // mount: the test's directories are made 0700.)
  for (std::string dir = mp.substr(0, mp.rfind('/')); dir.size() > 1;
       dir = dir.substr(0, dir.rfind('/'))) {
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    REQUIRE(::chmod(dir.c_str(), (st.st_mode & 07777) | 0001) == 0);
  }
  auto w = helix::Run({"setpriv", "--reuid=200000", "--regid=200000", "--clear-groups", "sh", "-c",
                       "echo hi > " + mp + "/by-mapped-root"},
                      std::chrono::seconds(10));
  REQUIRE(w.ok());
  REQUIRE(w->exit_code == 0);
  CHECK(UidOf(mp + "/by-mapped-root") == 200000);
  CHECK(StoredUid(p.image("m1"), "/data/by-mapped-root") == "0");

  // kill -9: the restarted plugin finds both mounts and keeps the reference.
  p.Kill(SIGKILL);
  p.Start();
  CHECK(p.Status("m1")["mount_references"] == 1);
  CHECK(MountLines(mp).size() == 1);
  CHECK(UidOf(mp) == 200000);
  REQUIRE(p.Call("Mount", {{"Name", "m1"}, {"ID", "a"}}).ok());  // the same ID again: no new mount
  CHECK(MountLines(mp).size() == 1);
  REQUIRE(p.Call("Unmount", {{"Name", "m1"}, {"ID", "a"}}).ok());
  REQUIRE(p.Call("Unmount", {{"Name", "m1"}, {"ID", "a"}}).ok());
  CHECK(MountLines(mp).empty());
  CHECK(MountLines(mp.substr(0, mp.rfind('/'))).empty());
  REQUIRE(p.Call("Remove", {{"Name", "m1"}}).ok());
}

TEST_CASE("a clone keeps its source's idmap; bad idmap values name the option", "[plugin][idmap]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(
      p.Call("Create", {{"Name", "g1"}, {"Opts", {{"size", "64M"}, {"idmap", "0:300000:65536"}}}})
          .ok());
  REQUIRE(p.Call("Create", {{"Name", "c1"}, {"Opts", {{"from", "g1"}}}}).ok());
  CHECK(p.Status("c1")["idmap"] == "0:300000:65536");
  std::string mp = (*p.Call("Mount", {{"Name", "c1"}, {"ID", "x"}}))["Mountpoint"];
  CHECK(UidOf(mp) == 300000);
  REQUIRE(p.Call("Unmount", {{"Name", "c1"}, {"ID", "x"}}).ok());
  auto bad = p.Call("Create", {{"Name", "b1"}, {"Opts", {{"idmap", "0:100000"}}}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() ==
        "invalid option idmap=\"0:100000\": must be CONTAINER:HOST:COUNT[,...] in decimal, as "
        "0:100000:65536");
  auto both = p.Call("Create", {{"Name", "b1"}, {"Opts", {{"idmap", "0:1:1"}, {"owner", "1:1"}}}});
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().message() ==
        "invalid option owner=\"1:1\": not with idmap: the idmapped mount already shows data/ as "
        "the mapped root's");
  CHECK_FALSE(p.Call("Get", {{"Name", "b1"}}).ok());
}
