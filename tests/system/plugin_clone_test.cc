// Golden data roots through the helixvol binary on the real kernel: the
// self-managed XFS pool, reflink clones of a mounted source, snapshots, and
// the pool surviving a kill -9.
#include <sys/statfs.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "common/file_util.h"
#include "common/spawn.h"
#include "system/kernel_scratch.h"
#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::PluginProcess;
using nlohmann::json;

namespace {

constexpr long kXfsMagic = 0x58465342;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("on ext4 POOL=auto keeps a self-managed XFS pool and clones by reflink",
          "[plugin][clone]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{
      {"POOL_SIZE", "1G"}, {"POOL_CRITICAL", "64M"}, {"POOL_WARNING", "64M"}});
  REQUIRE(p.Call("List", json(nullptr)).ok());  // answered once the pool is ready
  struct statfs fs {};
  REQUIRE(::statfs((p.state_dir() + "/pool").c_str(), &fs) == 0);
  CHECK(fs.f_type == kXfsMagic);
  REQUIRE(p.Call("Create", {{"Name", "gold"}, {"Opts", {{"size", "256M"}}}}).ok());
  std::string mp = (*p.Call("Mount", {{"Name", "gold"}, {"ID", "writer"}}))["Mountpoint"];
  std::ofstream(mp + "/golden-file") << "from gold";

  // Clone while mounted and written: frozen for the copy, a clean filesystem.
  REQUIRE(p.Call("Create", {{"Name", "s1"}, {"Opts", {{"from", "gold"}, {"size", "512M"}}}}).ok());
  auto s1 = p.Status("s1");
  CHECK(s1["clone_source"] == "gold");
  CHECK(s1["clone_method"] == "reflink");
  CHECK(s1["size"] == "512MiB");
  CHECK(s1["shared_bytes"].get<uint64_t>() > 0);
  auto fsck = helix::Run({"e2fsck", "-fn", p.image("s1")}, std::chrono::seconds(60));
  REQUIRE(fsck.ok());
  CHECK(fsck->exit_code == 0);

  std::string s1mp = (*p.Call("Mount", {{"Name", "s1"}, {"ID", "session"}}))["Mountpoint"];
  CHECK(ReadAll(s1mp + "/golden-file") == "from gold");
  REQUIRE(::statfs(s1mp.c_str(), &fs) == 0);
  CHECK(fs.f_blocks * fs.f_bsize > (400ull << 20));  // grown past the source's 256 MiB
  std::ofstream(s1mp + "/golden-file") << "changed in the session";
  CHECK(ReadAll(mp + "/golden-file") == "from gold");  // the source did not change

  // A snapshot: read-only, shareable, survives as a source.
  REQUIRE(p.Call("Create", {{"Name", "snap"}, {"Opts", {{"from", "gold"}, {"snapshot", "true"}}}})
              .ok());
  std::string snapmp = (*p.Call("Mount", {{"Name", "snap"}, {"ID", "r1"}}))["Mountpoint"];
  REQUIRE(p.Call("Mount", {{"Name", "snap"}, {"ID", "r2"}}).ok());
  CHECK_FALSE(std::ofstream(snapmp + "/x").is_open());
  CHECK(ReadAll(snapmp + "/golden-file") == "from gold");

  // kill -9 with volumes mounted: the restarted plugin reuses the pool's loop
  // device instead of attaching a second one to pool.img.
  p.Kill(SIGKILL);
  p.Start();
  CHECK(helix::vol::testing::CountLoopsBackedBy(*helix::IdOf(p.state_dir() + "/pool.img")) == 1);
  CHECK(p.Status("s1")["mount_references"] == 1);
  CHECK(ReadAll(s1mp + "/golden-file") == "changed in the session");
  for (auto [name, id] : std::vector<std::pair<std::string, std::string>>{
           {"gold", "writer"}, {"s1", "session"}, {"snap", "r1"}, {"snap", "r2"}}) {
    REQUIRE(p.Call("Unmount", {{"Name", name}, {"ID", id}}).ok());
  }
  REQUIRE(p.Call("Remove", {{"Name", "snap"}}).ok());
  REQUIRE(p.Call("Remove", {{"Name", "gold"}}).ok());
  CHECK(p.Call("Get", {{"Name", "s1"}}).ok());
}

TEST_CASE("POOL=copy makes real copies that share nothing", "[plugin][clone]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(p.Call("Create", {{"Name", "gold"}, {"Opts", {{"size", "64M"}}}}).ok());
  REQUIRE(p.Call("Create", {{"Name", "s1"}, {"Opts", {{"from", "gold"}}}}).ok());
  auto s1 = p.Status("s1");
  CHECK(s1["clone_method"] == "copy");
  CHECK(s1.value("shared_bytes", uint64_t{0}) == 0);
  CHECK(p.CallError("Create", {{"Name", "s2"}, {"Opts", {{"from", "nope"}}}}) ==
        R"(create volume "s2": clone source "nope" not found)");
  CHECK(p.CallError("Create", {{"Name", "s3"}, {"Opts", {{"from", "gold"}, {"size", "32M"}}}}) ==
        R"(create volume "s3": invalid option size="32M": smaller than the source volume "gold" )"
        "(64MiB)");
  CHECK(p.CallError("Create", {{"Name", "s4"}, {"Opts", {{"snapshot", "true"}}}}) ==
        R"(invalid option snapshot="true": needs from=<volume> to snapshot)");
  CHECK(*helix::ListDir(p.volumes_dir()) == std::vector<std::string>{"gold", "s1"});
}

TEST_CASE("a bad POOL setting stops start-up with its name", "[plugin][clone]") {
  auto r = helix::Run({"env", "POOL=nonsense", HELIXVOL_BINARY, "serve", "--socket",
                       "/tmp/helixvol-never.sock", "--state-dir", "/tmp/helixvol-never"},
                      std::chrono::seconds(10));
  REQUIRE(r.ok());
  CHECK(r->exit_code == 1);
  CHECK(r->err == "helixvol: setting POOL=\"nonsense\": must be one of auto, reflink, copy\n");
}
