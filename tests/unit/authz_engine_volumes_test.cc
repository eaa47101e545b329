#include <catch2/catch.hpp>

#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

Decision Run(const NormalizedRequest& req) {
  auto policy = TestPolicy();
  FakeEngineView engine = TestEngine();
  return Decide(*policy, req, engine);
}

Decision VolumeCreate(const std::string& driver, json options) {
  return Run(Req("POST", "/volumes/create",
                 json{{"name", "v1"}, {"driver", driver}, {"driveropts", options}}));
}

}  // namespace

TEST_CASE("local volumes are allowed without options and refused with bind options", "[authz]") {
  CHECK(VolumeCreate("", json::object()).allow);
  CHECK(VolumeCreate("local", nullptr).allow);
  CHECK(VolumeCreate("local", {{"type", "none"}, {"o", "bind"}, {"device", "/"}}).message ==
        "helixauthz: DriverOpts[\"device\"]: driver option \"device\" of driver \"local\" is not "
        "allowed (local options can bind host paths) (rule volumes.local_options)");
  CHECK(VolumeCreate("evil", json::object()).message ==
        "helixauthz: Driver: volume driver \"evil\" is not allowed (rule volume_drivers)");
}

TEST_CASE("helixvol clones only from snapshots", "[authz]") {
  CHECK(VolumeCreate("helixvol", {{"from", "golden"}}).allow);
  CHECK(VolumeCreate("helixvol:latest", {{"from", "golden"}, {"size", "50G"}}).allow);
  CHECK(VolumeCreate("helixvol", {{"from", "s1"}}).message ==
        "helixauthz: DriverOpts[\"from\"]: cloning volume \"s1\" is not allowed: it is not a "
        "snapshot (rule helixvol.from)");
  CHECK(VolumeCreate("helixvol", {{"from", "nope"}}).rule == "resolve");
  CHECK(VolumeCreate("helixvol", {{"from", ""}}).allow);  // opts out of DEFAULT_FROM
  CHECK(VolumeCreate("helixvol", json::object()).allow);
}

TEST_CASE("helixvol clones from names matching from_patterns", "[authz]") {
  auto policy = TestPolicy([](json& j) { j["helixvol"]["from_patterns"] = {"template-*"}; });
  FakeEngineView engine = TestEngine();
  json body = {{"name", "v1"}, {"driver", "helixvol"}, {"driveropts", {{"from", "template-a"}}}};
  CHECK(Decide(*policy, Req("POST", "/volumes/create", body), engine).allow);
}

TEST_CASE("helixvol snapshots only of preload volumes", "[authz]") {
  CHECK(VolumeCreate("helixvol", {{"from", "helixvol-preload-1"}, {"snapshot", "true"}}).allow);
  CHECK(VolumeCreate("helixvol", {{"from", "s1"}, {"snapshot", "true"}}).message ==
        "helixauthz: DriverOpts[\"from\"]: snapshot of volume \"s1\" is not allowed (rule "
        "helixvol.snapshot_from_patterns)");
}

TEST_CASE("helixvol shared volumes and oversized volumes are refused", "[authz]") {
  CHECK(VolumeCreate("helixvol", {{"exclusive", "false"}}).message ==
        "helixauthz: DriverOpts[\"exclusive\"]: exclusive \"false\" is not allowed (a data root "
        "shared by two engines is corrupted) (rule helixvol.allow_shared)");
  CHECK(VolumeCreate("helixvol", {{"exclusive", "true"}}).allow);
  CHECK(VolumeCreate("helixvol", {{"size", "201G"}}).message ==
        "helixauthz: DriverOpts[\"size\"]: size \"201G\" is not a size of at most 200GiB (rule "
        "helixvol.max_size)");
  CHECK(VolumeCreate("helixvol", {{"size", "lots"}}).rule == "helixvol.max_size");
  CHECK(VolumeCreate("helixvol", {{"sise", "1G"}}).rule == "helixvol.options");
}

TEST_CASE("volume removal is allowed", "[authz]") {
  CHECK(Run(Req("DELETE", "/volumes/s1")).allow);
}

TEST_CASE("bridge networks with listed options may be created", "[authz]") {
  json body = {{"name", "n1"}, {"driver", "bridge"}, {"checkduplicate", true}};
  CHECK(Run(Req("POST", "/networks/create", body)).allow);
  body["options"] = {{"com.docker.network.driver.mtu", "1400"}};
  CHECK(Run(Req("POST", "/networks/create", body)).allow);
  body["options"] = {{"com.docker.network.bridge.name", "docker0"}};
  CHECK(Run(Req("POST", "/networks/create", body)).message ==
        "helixauthz: Options[\"com.docker.network.bridge.name\"]: network option "
        "\"com.docker.network.bridge.name\" is not allowed (rule networks.options)");
  CHECK(Run(Req("POST", "/networks/create", json{{"name", "n2"}, {"driver", "macvlan"}})).rule ==
        "networks.drivers");
  CHECK(Run(Req("POST", "/networks/create", json{{"name", "n3"}, {"ingress", true}})).rule ==
        "networks");
}

TEST_CASE("ordinary containers may be connected to networks, desktops not", "[authz]") {
  CHECK(Run(Req("POST", "/networks/n1/connect", json{{"container", "web"}})).allow);
  CHECK(Run(Req("POST", "/networks/n1/connect", json{{"container", "desktop-1"}})).message ==
        "helixauthz: Container: connecting container \"desktop-1\" is not allowed: it is "
        "privileged (HostConfig.CapAdd[0] \"ALL\") (rule networks)");
  CHECK(Run(Req("POST", "/networks/host/connect", json{{"container", "web"}})).rule ==
        "namespaces");
  CHECK(Run(Req("POST", "/networks/n1/disconnect", json{{"container", "desktop-1"}})).allow);
}
