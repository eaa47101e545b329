// Bypass classes 3 and 4: a desktop's other volumes, and volume drivers in
// other spellings.
#include <catch2/catch.hpp>

#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

Decision Run(const NormalizedRequest& req, FakeEngineView& engine) {
  auto policy = TestPolicy();
  return Decide(*policy, req, engine);
}

// The test engine, with desktop-1 also holding an anonymous volume (from
// its image's VOLUME) and the read-only extra volume "assets".
FakeEngineView EngineWithDesktopVolumes() {
  FakeEngineView engine = TestEngine();
  ContainerInfo& desktop = engine.containers[kDesktopId];
  desktop.mounts.push_back({"volume", std::string(64, '9'), "", "/home", "local", true});
  desktop.mounts.push_back({"volume", "assets", "", "/assets", "local", false});
  engine.volumes[std::string(64, '9')] = Volume(std::string(64, '9'), "local");
  engine.volumes["assets"] = Volume("assets", "local");
  return engine;
}

json Mounting(json body, const std::string& bind) {
  body["hostconfig"]["binds"] = {bind};
  return body;
}

const std::string kProtected =
    "is mounted by protected container \"desktop-1\" (it is privileged (HostConfig.CapAdd[0] "
    "\"ALL\")); ordinary containers cannot mount it (rule volumes.protected)";

}  // namespace

TEST_CASE("ordinary containers cannot mount any volume a desktop mounts", "[authz]") {
  FakeEngineView engine = EngineWithDesktopVolumes();
  const std::string anon = std::string(64, '9');
  CHECK(Run(Req("POST", "/containers/create", Mounting(OrdinaryCreate(), anon + ":/x")), engine)
            .message == "helixauthz: HostConfig.Binds[0]: volume \"" + anon + "\" " + kProtected);
  CHECK(Run(Req("POST", "/containers/create", Mounting(OrdinaryCreate(), "assets:/a:ro")), engine)
            .rule == "volumes.protected");
  json mount = OrdinaryCreate();
  mount["hostconfig"]["mounts"] = {{{"type", "volume"}, {"source", "assets"}, {"target", "/a"}}};
  CHECK(Run(Req("POST", "/containers/create", mount), engine).rule == "volumes.protected");
  // Harmless twin: a volume no desktop mounts.
  CHECK(
      Run(Req("POST", "/containers/create", Mounting(OrdinaryCreate(), "cache:/c")), engine).allow);
}

TEST_CASE("a container sharing a volume with a desktop is protected: no cp, exec, start",
          "[authz]") {
  FakeEngineView engine = EngineWithDesktopVolumes();
  // Mounted before the desktop existed, or through a race.
  ContainerInfo& sneaky = engine.AddContainer(std::string(64, '6'), "sneaky");
  sneaky.mounts.push_back({"volume", "assets", "", "/a", "local", true});
  NormalizedRequest upload = Req("PUT", "/containers/sneaky/archive");
  upload.content_length = std::nullopt;
  Decision d = Run(upload, engine);
  CHECK(d.message ==
        "helixauthz: PUT /containers/sneaky/archive: writing files into container \"sneaky\" is "
        "not allowed: its volume \"assets\" is mounted by container \"desktop-1\", and it is "
        "privileged (HostConfig.CapAdd[0] \"ALL\") (rule containers.files)");
  CHECK(Run(Req("GET", "/containers/sneaky/archive"), engine).rule == "containers.files");
  CHECK(Run(Req("POST", "/containers/sneaky/start"), engine).rule == "containers.start");
  CHECK(Run(Req("POST", "/containers/sneaky/exec", json{{"Cmd", {"sh"}}}), engine).rule ==
        "privileged.exec");
  // Harmless twin: docker cp into an ordinary container with its own volume.
  engine.AddContainer(std::string(64, '7'), "plain")
      .mounts.push_back({"volume", "cache", "", "/c", "local", true});
  upload.path = "/containers/plain/archive";
  CHECK(Run(upload, engine).allow);
}

TEST_CASE("a desktop's extra volume may be in use only by desktops, read-only", "[authz]") {
  FakeEngineView engine = EngineWithDesktopVolumes();
  json body = DesktopCreate();
  body["labels"] = {{"helix.session", "s2"}};
  body["hostconfig"]["binds"] = {"s2:/var/lib/docker", "assets:/assets:ro"};
  Decision shared = Run(Req("POST", "/containers/create", body), engine);
  INFO(shared.message);
  CHECK(shared.allow);  // desktop-1 has it read-only too
  ContainerInfo& writer = engine.AddContainer(std::string(64, '8'), "writer");
  writer.mounts.push_back({"volume", "assets", "", "/a", "local", true});
  CHECK(Run(Req("POST", "/containers/create", body), engine).message ==
        "helixauthz: HostConfig.Binds[1]: volume \"assets\" is in use by container \"writer\"; "
        "a desktop's extra volumes must not be writable by others; the request is privileged "
        "because of HostConfig.CapAdd[0] \"ALL\" (rule privileged.extra_volumes)");
}

TEST_CASE("driver names in other spellings are refused or read as the plugin they reach",
          "[authz]") {
  FakeEngineView engine = TestEngine();
  for (const char* spelling : {"./helixvol", "x/../helixvol", "/helixvol", "helixvol/", "HelixVol",
                               "helixvol@sha256:"
                               "0000000000000000000000000000000000000000000000000000000000000000",
                               "abc123"}) {
    INFO(spelling);
    json body = OrdinaryCreate();
    body["hostconfig"]["volumedriver"] = spelling;
    body["hostconfig"]["binds"] = {"new-vol:/data"};
    Decision d = Run(Req("POST", "/containers/create", body), engine);
    CHECK(d.rule == "plugin_names");
    CHECK(Run(Req("POST", "/volumes/create", json{{"Name", "v"}, {"Driver", spelling}}), engine)
              .rule == "plugin_names");
  }
  json body = OrdinaryCreate();
  body["hostconfig"]["volumedriver"] = "./helixvol";
  CHECK(Run(Req("POST", "/containers/create", body), engine).message ==
        "helixauthz: HostConfig.VolumeDriver: volume driver \"./helixvol\" is not a plain plugin "
        "name (lower-case name[:tag], no \".\" or \"..\" segments, not an ID prefix) (rule "
        "plugin_names)");
  // The reference spellings of the same plugin are helixvol.
  for (const char* same : {"docker.io/library/helixvol:latest", "library/helixvol",
                           "index.docker.io/library/helixvol"}) {
    INFO(same);
    body["hostconfig"]["volumedriver"] = same;
    CHECK(Run(Req("POST", "/containers/create", body), engine).rule == "ordinary.helixvol");
  }
}

TEST_CASE("a volume driver is allowed or not even when no bind names it", "[authz]") {
  // The image's VOLUMEs and the body's Volumes become volumes of
  // VolumeDriver, which the request shows nowhere else.
  FakeEngineView engine = TestEngine();
  json body = OrdinaryCreate();
  body["hostconfig"]["volumedriver"] = "other-plugin";
  CHECK(Run(Req("POST", "/containers/create", body), engine).message ==
        "helixauthz: HostConfig.VolumeDriver: volume driver \"other-plugin\" is not allowed "
        "(rule volume_drivers)");
  body["hostconfig"]["volumedriver"] = "local";
  CHECK(Run(Req("POST", "/containers/create", body), engine).allow);
  body = DesktopCreate();
  body["volumes"] = {{"/extra", json::object()}};
  Decision d = Run(Req("POST", "/containers/create", body), engine);
  CHECK(d.message.find("helixauthz: Volumes[\"/extra\"]: anonymous volume of driver "
                       "\"helixvol\" at \"/extra\" is not allowed besides the data root") == 0);
}
