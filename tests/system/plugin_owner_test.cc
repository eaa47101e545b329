// `-o owner` and DEFAULT_OWNER through the helixvol binary on the real kernel:
// data/ belongs to the owner at every mount (a userns desktop's remapped root
// must own its data root), only data/ itself changes, and clones take their
// source's owner unless told otherwise.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::PluginProcess;
using nlohmann::json;

namespace {

std::string OwnerOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

}  // namespace

TEST_CASE("owner makes data/ belong to UID:GID at every mount; clones keep their source's",
          "[plugin][owner]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(
      p.Call("Create", {{"Name", "u1"}, {"Opts", {{"size", "64M"}, {"owner", "200000:200001"}}}})
          .ok());
  CHECK(p.Status("u1")["owner"] == "200000:200001");
  std::string mp = (*p.Call("Mount", {{"Name", "u1"}, {"ID", "a"}}))["Mountpoint"];
  CHECK(OwnerOf(mp) == "200000:200001");
  std::ofstream(mp + "/by-root") << "x";
  REQUIRE(p.Call("Unmount", {{"Name", "u1"}, {"ID", "a"}}).ok());

  // A clone without owner keeps its source's; one with owner gets its own,
  // on data/ only.
  REQUIRE(p.Call("Create", {{"Name", "same"}, {"Opts", {{"from", "u1"}}}}).ok());
  CHECK(p.Status("same")["owner"] == "200000:200001");
  REQUIRE(
      p.Call("Create", {{"Name", "other"}, {"Opts", {{"from", "u1"}, {"owner", "300000:300000"}}}})
          .ok());
  std::string other = (*p.Call("Mount", {{"Name", "other"}, {"ID", "b"}}))["Mountpoint"];
  CHECK(OwnerOf(other) == "300000:300000");
  CHECK(OwnerOf(other + "/by-root") == "0:0");

  // Whoever changed it in between, the next mount sets it again.
  REQUIRE(p.Call("Unmount", {{"Name", "other"}, {"ID", "b"}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "u1"}, {"ID", "c"}}).ok());
  REQUIRE(::chown(mp.c_str(), 0, 0) == 0);
  REQUIRE(p.Call("Unmount", {{"Name", "u1"}, {"ID", "c"}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "u1"}, {"ID", "d"}}).ok());
  CHECK(OwnerOf(mp) == "200000:200001");
  REQUIRE(p.Call("Unmount", {{"Name", "u1"}, {"ID", "d"}}).ok());

  // Survives a restart (kept in meta.json).
  p.Kill(SIGKILL);
  p.Start();
  CHECK(p.Status("u1")["owner"] == "200000:200001");

  auto bad = p.Call("Create", {{"Name", "bad"}, {"Opts", {{"owner", "dockremap"}}}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() ==
        "invalid option owner=\"dockremap\": must "
        "be UID:GID in decimal, as 100000:100000");
  CHECK_FALSE(p.Call("Get", {{"Name", "bad"}}).ok());
}

TEST_CASE("DEFAULT_OWNER owns the data/ of volumes made without owner; owner= opts out",
          "[plugin][owner]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(
      std::map<std::string, std::string>{{"POOL", "copy"}, {"DEFAULT_OWNER", "100000:100000"}});
  REQUIRE(p.Call("Create", {{"Name", "d1"}, {"Opts", json::object()}}).ok());
  std::string mp = (*p.Call("Mount", {{"Name", "d1"}, {"ID", "a"}}))["Mountpoint"];
  CHECK(OwnerOf(mp) == "100000:100000");
  REQUIRE(p.Call("Create", {{"Name", "r1"}, {"Opts", {{"owner", ""}}}}).ok());
  std::string rmp = (*p.Call("Mount", {{"Name", "r1"}, {"ID", "b"}}))["Mountpoint"];
  CHECK(OwnerOf(rmp) == "0:0");
  CHECK_FALSE(p.Status("r1").contains("owner"));
}
