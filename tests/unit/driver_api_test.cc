// The protocol layer: real HTTP over a temporary Unix socket, the volume
// manager behind it on fakes. Proves the JSON shapes dockerd expects and
// that a malformed request never reaches the manager.
#include "volume-plugin/protocol/driver_api.h"

#include <httplib.h>
#include <catch2/catch.hpp>
#include <thread>

#include "common/http/plugin_server.h"
#include "fakes/fake_system.h"
#include "fakes/temp_dir.h"

using namespace helix;
using namespace helix::vol;
using nlohmann::json;

namespace {

struct Served {
  helix::testing::TempDir dir;
  vol::testing::FakeSystem sys;
  vol::testing::CallLog& log = sys.log;
  vol::testing::FakeMounter& mounter = sys.mounter;
  std::unique_ptr<VolumeManager> manager;
  std::unique_ptr<PluginServer> server;
  std::thread thread;

  Served() {
    ManagerConfig config;
    config.state_dir = dir / "state";
    config.mount_root = dir / "mnt";
    config.pool_critical = 0;
    config.pool_warning = 0;
    manager = std::make_unique<VolumeManager>(config, sys.Ops());
    REQUIRE(manager->Recover().ok());
    server = std::make_unique<PluginServer>(PluginServer::Options{socket(), {"VolumeDriver"}});
    RegisterVolumeDriver(*server, *manager);
    REQUIRE(server->Listen().ok());
    thread = std::thread([this] { server->Serve(); });
    server->SetReady();
  }
  ~Served() {
    server->Stop();
    thread.join();
  }
  std::string socket() const { return dir / "p.sock"; }
  Result<json> Call(const std::string& endpoint, const json& body) {
    return CallPlugin(socket(), "/VolumeDriver." + endpoint, body, 10);
  }
};

}  // namespace

TEST_CASE("volume endpoints answer in the shapes dockerd decodes", "[driver]") {
  Served s;
  CHECK(*s.Call("Capabilities", json(nullptr)) == json{{"Capabilities", {{"Scope", "local"}}}});
  CHECK(*s.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "1G"}}}}) == json::object());
  auto got = s.Call("Get", {{"Name", "v1"}});
  REQUIRE(got.ok());
  CHECK((*got)["Volume"]["Name"] == "v1");
  CHECK((*got)["Volume"]["Mountpoint"] == "");
  CHECK((*got)["Volume"]["Status"]["size"] == "1GiB");
  auto mounted = s.Call("Mount", {{"Name", "v1"}, {"ID", "id1"}});
  REQUIRE(mounted.ok());
  CHECK((*mounted)["Mountpoint"] == s.dir / "mnt/v1/data");
  CHECK((*s.Call("Path", {{"Name", "v1"}}))["Mountpoint"] == s.dir / "mnt/v1/data");
  auto list = s.Call("List", json(nullptr));
  REQUIRE(list.ok());
  REQUIRE((*list)["Volumes"].size() == 1);
  CHECK((*list)["Volumes"][0]["Name"] == "v1");
  CHECK_FALSE((*list)["Volumes"][0].contains("Status"));
  CHECK(*s.Call("Unmount", {{"Name", "v1"}, {"ID", "id1"}}) == json::object());
  CHECK(*s.Call("Remove", {{"Name", "v1"}}) == json::object());
}

TEST_CASE("missing and mistyped fields are refused before the manager runs", "[driver]") {
  Served s;
  CHECK(s.Call("Create", {{"Opts", json::object()}}).error().message() == "missing field Name");
  CHECK(s.Call("Create", {{"Name", 7}}).error().message() == "field Name must be a string");
  CHECK(s.Call("Create", {{"Name", "v1"}, {"Opts", "size=1G"}}).error().message() ==
        "field Opts must be an object of strings");
  CHECK(s.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", 5}}}}).error().message() ==
        "field Opts.size must be a string");
  CHECK(s.Call("Mount", {{"Name", "v1"}}).error().message() == "missing field ID");
  CHECK(s.log.calls.empty());
}

TEST_CASE("malformed JSON gets 400 and creates nothing", "[driver]") {
  Served s;
  httplib::Client raw(s.socket(), 80);
  raw.set_address_family(AF_UNIX);
  auto res = raw.Post("/VolumeDriver.Create", R"({"Name":"v1")", "application/json");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(s.log.calls.empty());
  CHECK(s.manager->List().empty());
}

TEST_CASE("release answers with the mount IDs it dropped", "[driver]") {
  Served s;
  REQUIRE(s.Call("Create", {{"Name", "v1"}}).ok());
  REQUIRE(s.Call("Mount", {{"Name", "v1"}, {"ID", "id1"}}).ok());
  auto r = CallPlugin(s.socket(), "/Helixvol.Release", {{"Name", "v1"}}, 10);
  REQUIRE(r.ok());
  CHECK((*r)["Released"] == json::array({"id1"}));
  CHECK(s.mounter.MountCount() == 0);
}
