// The helixvol binary on the real kernel, driven over its socket with the
// requests dockerd sends.
#include <sys/statfs.h>
#include <sys/wait.h>

#include <httplib.h>
#include <catch2/catch.hpp>
#include <fstream>

#include "common/file_util.h"
#include "common/spawn.h"
#include "system/plugin_process.h"
#include "system/root.h"
#include "volume-plugin/system/loop_devices.h"

using helix::testing::PluginProcess;
using nlohmann::json;

namespace {

const std::string kId1(64, 'a');
const std::string kId2(64, 'b');
constexpr long kExt4Magic = 0xEF53;

// True when some loop device is still bound to `image`.
bool LoopAttached(const std::string& image) {
  auto id = helix::IdOf(image);
  REQUIRE(id.ok());
  auto dev = helix::vol::KernelLoopDevices().FindByBacking(*id);
  REQUIRE(dev.ok());
  return dev->has_value();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("helixvol serves every volume endpoint with real ext4 volumes", "[plugin]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p;
  auto activate = helix::CallPlugin(p.socket(), "/Plugin.Activate", json(nullptr));
  REQUIRE(activate.ok());
  CHECK((*activate)["Implements"] == json::array({"VolumeDriver"}));
  CHECK((*p.Call("Capabilities", json(nullptr)))["Capabilities"]["Scope"] == "local");

  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "64M"}}}}).ok());
  auto got = p.Call("Get", {{"Name", "v1"}});
  REQUIRE(got.ok());
  CHECK((*got)["Volume"]["Name"] == "v1");
  CHECK((*got)["Volume"]["Status"]["size"] == "64MiB");
  CHECK((*got)["Volume"]["CreatedAt"].get<std::string>().size() == 20);
  auto list = p.Call("List", json(nullptr));
  REQUIRE(list.ok());
  REQUIRE((*list)["Volumes"].size() == 1);

  auto mounted = p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}});
  REQUIRE(mounted.ok());
  std::string mountpoint = (*mounted)["Mountpoint"];
  CHECK(mountpoint == p.mount_root() + "/v1/data");
  struct statfs fs {};
  REQUIRE(::statfs(mountpoint.c_str(), &fs) == 0);
  CHECK(fs.f_type == kExt4Magic);
  CHECK(fs.f_blocks * fs.f_bsize > (50ull << 20));
  CHECK(fs.f_blocks * fs.f_bsize <= (64ull << 20));
  std::ofstream(mountpoint + "/hello") << "from the first container";
  CHECK((*p.Call("Path", {{"Name", "v1"}}))["Mountpoint"] == mountpoint);
  auto status = (*p.Call("Get", {{"Name", "v1"}}))["Volume"]["Status"];
  CHECK(status["mounted"] == true);
  CHECK(status["loop_device"].get<std::string>().rfind("/dev/loop", 0) == 0);
  CHECK(status.contains("used_bytes"));

  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId2}}).find("in use by another container") !=
        std::string::npos);
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}).ok());  // docker cp
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  CHECK(LoopAttached(p.image("v1")));
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  CHECK_FALSE(LoopAttached(p.image("v1")));
  CHECK((*p.Call("Path", {{"Name", "v1"}}))["Mountpoint"] == "");

  // Data survives into the next container's mount.
  auto again = p.Call("Mount", {{"Name", "v1"}, {"ID", kId2}});
  REQUIRE(again.ok());
  CHECK(ReadAll(std::string((*again)["Mountpoint"]) + "/hello") == "from the first container");
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId2}}).ok());

  REQUIRE(p.Call("Remove", {{"Name", "v1"}}).ok());
  CHECK((*p.Call("List", json(nullptr)))["Volumes"].empty());
  CHECK(*helix::ListDir(p.volumes_dir()) == std::vector<std::string>{});
}

TEST_CASE("bad requests get exact errors and create nothing", "[plugin]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p;
  const std::string rule = ": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+";
  CHECK(p.CallError("Create", {{"Name", "../x"}}) == "invalid volume name \"../x\"" + rule);
  CHECK(p.CallError("Create", {{"Name", "a/b"}}) == "invalid volume name \"a/b\"" + rule);
  CHECK(p.CallError("Create", {{"Name", ""}}) == "invalid volume name \"\"" + rule);
  CHECK(p.CallError("Create", {{"Name", std::string("a\0b", 3)}}) ==
        "invalid volume name \"a\\u0000b\"" + rule);
  CHECK(p.CallError("Create", {{"Name", std::string(300, 'n')}}) ==
        "invalid volume name \"" + std::string(32, 'n') +
            "\"... (300 characters): at most 255 characters");
  CHECK(p.CallError("Create", {{"Name", "v1"}, {"Opts", {{"size", "abc"}}}}) ==
        R"(invalid option size="abc": size "abc" is not a size (examples: 512M, 20G, 1T))");
  CHECK(p.CallError("Create", {{"Name", "v1"}, {"Opts", {{"size", "-1"}}}}) ==
        R"(invalid option size="-1": size "-1" must be positive)");
  CHECK(p.CallError("Create", {{"Name", "v1"}, {"Opts", {{"size", "0"}}}}) ==
        R"(invalid option size="0": size "0" must be positive)");
  CHECK(p.CallError("Create", {{"Name", "v1"}, {"Opts", {{"size", "99999999T"}}}}) ==
        R"(invalid option size="99999999T": size "99999999T" is too large)");
  CHECK(p.CallError("Create", {{"Name", "v1"}, {"Opts", {{"bogus", "1"}}}}) ==
        R"(invalid option "bogus" (valid: exclusive, from, idmap, owner, size, snapshot))");
  CHECK(p.CallError("Create", {{"Opts", json::object()}}) == "missing field Name");
  CHECK(p.CallError("Mount", {{"Name", "nope"}, {"ID", kId1}}) ==
        R"(mount volume "nope": volume "nope" not found)");
  CHECK(p.CallError("Get", {{"Name", "nope"}}) == R"(volume "nope" not found)");

  // Malformed JSON: 400, and the handler never ran.
  httplib::Client raw(p.socket(), 80);
  raw.set_address_family(AF_UNIX);
  auto res = raw.Post("/VolumeDriver.Create", R"({"Name": "v1", )", "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(json::parse(res->body)["Err"].get<std::string>().rfind(
            "malformed JSON in request to /VolumeDriver.Create", 0) == 0);
  CHECK(*helix::ListDir(p.volumes_dir()) == std::vector<std::string>{});

  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  CHECK(p.CallError("Remove", {{"Name", "v1"}}) ==
        R"(remove volume "v1": volume is in use by 1 container mount(s); stop the containers )"
        "that use it first");
  CHECK(p.CallError("Unmount", {{"Name", "v1"}, {"ID", "unknown"}}) ==
        R"(unmount volume "v1": no mount with ID "unknown")");
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  REQUIRE(p.Call("Remove", {{"Name", "v1"}}).ok());
}

TEST_CASE("after kill -9 a restarted helixvol finds its mounted volume", "[plugin][recovery]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p;
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Create", {{"Name", "v2"}, {"Opts", {{"size", "32M"}}}}).ok());
  std::string mountpoint = (*p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}))["Mountpoint"];
  std::ofstream(mountpoint + "/data") << "still here";
  p.Kill(SIGKILL);
  p.Start();
  auto v1 = (*p.Call("Get", {{"Name", "v1"}}))["Volume"];
  CHECK(v1["Mountpoint"] == mountpoint);
  CHECK(v1["Status"]["mounted"] == true);
  CHECK(v1["Status"]["mount_references"] == 1);
  CHECK((*p.Call("List", json(nullptr)))["Volumes"].size() == 2);
  CHECK(ReadAll(mountpoint + "/data") == "still here");
  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId2}}).find("in use by another") !=
        std::string::npos);
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  CHECK_FALSE(LoopAttached(p.image("v1")));
  CHECK_FALSE(LoopAttached(p.image("v2")));
}

TEST_CASE("helixvol release drops a reference nobody will unmount", "[plugin]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p;
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  auto r = helix::Run({HELIXVOL_BINARY, "release", "v1", "--socket", p.socket()},
                      std::chrono::seconds(30));
  REQUIRE(r.ok());
  CHECK(r->exit_code == 0);
  CHECK(r->out == "released " + kId1 + "\n");
  CHECK_FALSE(LoopAttached(p.image("v1")));
  CHECK(p.Call("Mount", {{"Name", "v1"}, {"ID", kId2}}).ok());
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId2}}).ok());
}

TEST_CASE("helixvol stops cleanly on SIGTERM and removes its socket", "[plugin]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p;
  int status = p.Kill(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(helix::IdOf(p.socket()).ok());
}

TEST_CASE("helixvol prints usage and refuses bad command lines", "[plugin]") {
  auto none = helix::Run({HELIXVOL_BINARY}, std::chrono::seconds(10));
  REQUIRE(none.ok());
  CHECK(none->exit_code == 2);
  CHECK(none->err.rfind("usage: helixvol COMMAND", 0) == 0);
  auto help = helix::Run({HELIXVOL_BINARY, "--help"}, std::chrono::seconds(10));
  REQUIRE(help.ok());
  CHECK(help->exit_code == 0);
  CHECK(help->out.rfind("usage: helixvol COMMAND", 0) == 0);
  auto bad = helix::Run({HELIXVOL_BINARY, "serve", "--sokcet", "x"}, std::chrono::seconds(10));
  REQUIRE(bad.ok());
  CHECK(bad->exit_code == 1);
  CHECK(bad->err == "helixvol: unknown flag \"--sokcet\"\n");
  auto setting = helix::Run({"env", "DEFAULT_SIZE=abc", HELIXVOL_BINARY, "serve", "--socket",
                             "/tmp/helixvol-never.sock", "--state-dir", "/tmp/helixvol-never"},
                            std::chrono::seconds(10));
  REQUIRE(setting.ok());
  CHECK(setting->exit_code == 1);
  CHECK(setting->err ==
        "helixvol: setting DEFAULT_SIZE=\"abc\": size \"abc\" is not a size (examples: 512M, "
        "20G, 1T)\n");
}
