#include <catch2/catch.hpp>

#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

Decision Create(const json& body, FakeEngineView* engine = nullptr) {
  auto policy = TestPolicy();
  FakeEngineView local = TestEngine();
  return Decide(*policy, Req("POST", "/containers/create", body), engine ? *engine : local);
}

const std::string kBecause = "; the request is privileged because of HostConfig.CapAdd[0] \"ALL\"";

}  // namespace

TEST_CASE("the privileged-equivalent flag set is admitted as a desktop of the right shape",
          "[authz]") {
  Decision d = Create(DesktopCreate());
  INFO(d.message);
  CHECK(d.allow);
  CHECK(d.rule == "containers.create");
}

TEST_CASE("a --privileged create with --mount is admitted as a desktop of the right shape",
          "[authz]") {
  json body = DesktopCreate();
  auto& hc = body["hostconfig"];
  hc["privileged"] = true;
  hc["capadd"] = nullptr;
  hc["securityopt"] = nullptr;
  hc["devicecgrouprules"] = nullptr;
  hc["binds"] = nullptr;
  hc["volumedriver"] = "";
  hc["mounts"] = {{{"type", "volume"},
                   {"source", "s2"},
                   {"target", "/var/lib/docker"},
                   {"volumeoptions", {{"driverconfig", {{"name", "helixvol"}}}}}}};
  Decision d = Create(body);
  INFO(d.message);
  CHECK(d.allow);
}

TEST_CASE("the privileged-equivalent flag set with another image is refused", "[authz]") {
  json body = DesktopCreate();
  body["image"] = "busybox";
  Decision d = Create(body);
  CHECK_FALSE(d.allow);
  CHECK(d.rule == "privileged.images");
  CHECK(d.message == "helixauthz: Image: image \"busybox\" (" + kBusyboxImageId +
                         ") is not allowed to run privileged" + kBecause +
                         " (rule privileged.images)");
}

TEST_CASE("an image allowed by repo digest is admitted; an unresolvable one is refused",
          "[authz]") {
  json body = DesktopCreate();
  body["image"] = "helix/other:1";
  CHECK(Create(body).allow);
  body["image"] = "helix/nope";
  Decision d = Create(body);
  CHECK(d.message ==
        "helixauthz: Image: image \"helix/nope\" cannot be resolved: No such image: helix/nope" +
            kBecause + " (rule privileged.images)");
}

TEST_CASE("one capability beyond the ordinary set makes a request a desktop", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["capadd"] = {"sys_admin"};
  Decision d = Create(body);
  CHECK(d.rule == "privileged.images");
  CHECK(d.message.find("privileged because of HostConfig.CapAdd[0] \"sys_admin\"") !=
        std::string::npos);
  body["hostconfig"]["capadd"] = {"CAP_CHOWN", "net_raw"};  // Docker's defaults
  CHECK(Create(body).allow);
}

TEST_CASE("each privileged-equivalent attribute alone makes a desktop request", "[authz]") {
  std::vector<std::pair<std::string, json>> cases = {
      {"privileged", true},
      {"securityopt", {"seccomp:unconfined"}},
      {"securityopt", {"apparmor=unconfined"}},
      {"securityopt", {"systempaths=unconfined"}},
      {"devicecgrouprules", {"a *:* rwm"}},
      {"devices", {{{"pathonhost", "/dev/fuse"}, {"pathincontainer", "/dev/fuse"}}}},
      {"devicerequests", {{{"driver", "nvidia"}, {"count", -1}}}},
      {"maskedpaths", json::array()},
      {"readonlypaths", {"/proc/bus"}}};
  for (const auto& [key, value] : cases) {
    INFO(key << " " << value.dump());
    json body = OrdinaryCreate();
    body["hostconfig"][key] = value;
    Decision d = Create(body);
    CHECK_FALSE(d.allow);
    CHECK(d.rule == "privileged.images");
  }
}

TEST_CASE("HostConfig fields at the top level of a create body are refused", "[authz]") {
  json body = OrdinaryCreate();
  body["binds"] = {"/:/host"};
  Decision d = Create(body);
  CHECK(d.message ==
        "helixauthz: Binds: HostConfig field at the top level of the body is not allowed (put it "
        "in HostConfig) (rule create.top_level)");
  body = OrdinaryCreate();
  body["cpuset"] = "0";
  CHECK(Create(body).rule == "create.top_level");
  body = OrdinaryCreate();
  body["hostconfig"] = "privileged";
  CHECK(Create(body).message ==
        "helixauthz: HostConfig: an object is required (rule "
        "create.host_config)");
}

TEST_CASE("a create without HostConfig gets dockerd's default host config", "[authz]") {
  json body = OrdinaryCreate();
  body.erase("hostconfig");
  CHECK(Create(body).allow);
  body["hostconfig"] = nullptr;
  CHECK(Create(body).allow);
}

TEST_CASE("host paths are refused for every container", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["binds"] = {"/var/run/docker.sock:/var/run/docker.sock"};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds[0]: host path \"/var/run/docker.sock\" is not allowed "
        "(rule host_paths)");
  body = OrdinaryCreate();
  body["hostconfig"]["mounts"] = {{{"type", "bind"}, {"source", "/"}, {"target", "/host"}}};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Mounts[0]: host path \"/\" is not allowed (rule host_paths)");
  body = DesktopCreate();
  body["hostconfig"]["binds"].push_back("/etc:/host-etc:ro");
  CHECK(Create(body).rule == "host_paths");
}

TEST_CASE("an allowlisted host path admits paths under it, not around it", "[authz]") {
  auto policy = TestPolicy([](json& j) { j["host_paths"] = {"/srv/shared"}; });
  FakeEngineView engine = TestEngine();
  json body = OrdinaryCreate();
  body["hostconfig"]["binds"] = {"/srv/shared/x:/x"};
  CHECK(Decide(*policy, Req("POST", "/containers/create", body), engine).allow);
  body["hostconfig"]["binds"] = {"/srv/shared/../../etc:/x"};
  CHECK_FALSE(Decide(*policy, Req("POST", "/containers/create", body), engine).allow);
  body["hostconfig"]["binds"] = {"/srv/shared-other:/x"};
  CHECK_FALSE(Decide(*policy, Req("POST", "/containers/create", body), engine).allow);
}

TEST_CASE("a desktop needs a helixvol volume at /var/lib/docker", "[authz]") {
  json body = DesktopCreate();
  body["hostconfig"]["binds"] = json::array();
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Mounts: a helixvol volume at \"/var/lib/docker\" is required" +
            kBecause + " (rule privileged.data_root)");
  body = DesktopCreate();
  body["hostconfig"]["volumedriver"] = "";  // s9 does not exist: dockerd makes it "local"
  body["hostconfig"]["binds"] = {"s9:/var/lib/docker"};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds[0]: volume \"s9\" at \"/var/lib/docker\" has driver "
        "\"local\", not helixvol" +
            kBecause + " (rule privileged.data_root)");
  body["hostconfig"]["binds"] = {"s1:/var/lib/docker"};  // exists, driver helixvol
  CHECK(Create(body).allow);
  body["hostconfig"]["binds"] = {"cache:/var/lib/docker"};  // exists, driver local
  body["hostconfig"]["volumedriver"] = "helixvol";
  CHECK(Create(body).rule == "privileged.data_root");
  body["hostconfig"]["binds"] = json::array();
  body["hostconfig"]["tmpfs"] = {{"/var/lib/docker", ""}};
  CHECK(Create(body).rule == "privileged.data_root");
}

TEST_CASE("a desktop may mount other volumes only read-only and local", "[authz]") {
  json body = DesktopCreate();
  body["hostconfig"]["binds"].push_back("cache:/helix-preload:ro");
  CHECK(Create(body).allow);
  body["hostconfig"]["binds"][1] = "cache:/helix-preload";
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds[1]: volume \"cache\" at \"/helix-preload\" must be "
        "read-only" +
            kBecause + " (rule privileged.extra_volumes)");
  body["hostconfig"]["binds"][1] = "golden:/x:ro";  // another helixvol volume
  CHECK(Create(body).rule == "privileged.extra_volumes");
  body = DesktopCreate();
  body["hostconfig"]["volumesfrom"] = {"web"};
  CHECK(Create(body).rule == "privileged.volumes_from");
}

TEST_CASE("a desktop must carry the required labels", "[authz]") {
  json body = DesktopCreate();
  body["labels"] = json::object();
  CHECK(Create(body).message == "helixauthz: Labels: label \"helix.session\" is required" +
                                    kBecause + " (rule privileged.labels)");
  auto policy = TestPolicy([](json& j) { j["privileged"]["labels"]["helix.kind"] = {"desktop"}; });
  FakeEngineView engine = TestEngine();
  body = DesktopCreate();
  body["labels"]["helix.kind"] = "other";
  Decision d = Decide(*policy, Req("POST", "/containers/create", body), engine);
  CHECK(d.message == "helixauthz: Labels[\"helix.kind\"]: value \"other\" is not allowed" +
                         kBecause + " (rule privileged.labels)");
}

TEST_CASE("a desktop must set memory, CPU and pids limits within the maxima", "[authz]") {
  json body = DesktopCreate();
  body["hostconfig"]["memory"] = 0;
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Memory: limit 0 must be set and at most 64GiB" + kBecause +
            " (rule privileged.limits)");
  body = DesktopCreate();
  body["hostconfig"]["nanocpus"] = 17000000000;
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.NanoCpus: CPU limit 17000000000 must be set and at most 16 CPUs" +
            kBecause + " (rule privileged.limits)");
  body["hostconfig"]["nanocpus"] = 0;
  body["hostconfig"]["cpuquota"] = 400000;  // --cpu-quota 400000: 4 CPUs at the default period
  CHECK(Create(body).allow);
  body["hostconfig"]["cpuquota"] = 1700000;
  CHECK(Create(body).rule == "privileged.limits");
  body = DesktopCreate();
  body["hostconfig"]["pidslimit"] = nullptr;
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.PidsLimit: limit 0 must be set and at most 32768" + kBecause +
            " (rule privileged.limits)");
  body = DesktopCreate();
  body["hostconfig"]["memoryswap"] = -1;
  CHECK(Create(body).rule == "privileged.limits");
  body = DesktopCreate();
  body["hostconfig"]["memory"] = 8.5e9;  // Go refuses a float for an int64
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Memory: expected an integer, got number (rule body)");
}

TEST_CASE("a desktop's powers stay within the privileged allowlists", "[authz]") {
  json body = DesktopCreate();
  body["hostconfig"]["securityopt"].push_back("seccomp=/tmp/profile.json");
  CHECK(Create(body).rule == "privileged.security_options");
  body = DesktopCreate();
  body["hostconfig"]["devicecgrouprules"] = {"c 10:200 rwm"};
  CHECK(Create(body).rule == "privileged.device_cgroup_rules");
  body = DesktopCreate();
  body["hostconfig"]["devices"] = {{{"pathonhost", "/dev/sda"}}};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Devices[0].PathOnHost: device "
        "\"/dev/sda\" is not allowed" +
            kBecause + " (rule privileged.devices)");
  body = DesktopCreate();
  body["hostconfig"]["devicerequests"] = {{{"driver", "nvidia"}}};
  CHECK(Create(body).rule == "privileged.device_requests");
  auto gpu = TestPolicy([](json& j) { j["privileged"]["device_requests"] = true; });
  FakeEngineView engine = TestEngine();
  CHECK(Decide(*gpu, Req("POST", "/containers/create", body), engine).allow);
}

TEST_CASE("host namespaces are refused; container namespaces only of unprotected containers",
          "[authz]") {
  for (const char* key :
       {"networkmode", "pidmode", "ipcmode", "utsmode", "usernsmode", "cgroupnsmode"}) {
    INFO(key);
    json body = OrdinaryCreate();
    body["hostconfig"][key] = "host";
    CHECK(Create(body).rule == "namespaces");
    body = DesktopCreate();
    body["hostconfig"][key] = "host";
    CHECK(Create(body).rule == "namespaces");
  }
  json body = OrdinaryCreate();
  body["hostconfig"]["pidmode"] = "container:desktop-1";
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.PidMode: namespace \"container:desktop-1\" is not allowed: it is "
        "privileged (HostConfig.CapAdd[0] \"ALL\") (rule namespaces)");
  body["hostconfig"]["pidmode"] = "container:2222";  // ID prefix of "web"
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.PidMode: ID prefix \"2222\" is not allowed here: use the "
        "container's full ID or its name (rule resolve)");
  body["hostconfig"]["pidmode"] = "container:" + kOrdinaryId;
  CHECK(Create(body).allow);
  body["hostconfig"]["pidmode"] = "container:web";
  CHECK(Create(body).allow);
  body["hostconfig"]["networkmode"] = "container:gone";
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.NetworkMode: container \"gone\" cannot be resolved: No such "
        "container: gone (rule resolve)");
  body = DesktopCreate();
  body["hostconfig"]["networkmode"] = "container:web";
  CHECK(Create(body).rule == "namespaces");
  body = OrdinaryCreate();
  body["hostconfig"]["networkmode"] = "my-net";
  CHECK(Create(body).allow);
}

TEST_CASE("ordinary containers cannot mount desktop data roots", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["binds"] = {"s1:/data"};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds[0]: volume \"s1\" of driver \"helixvol\" is a desktop data "
        "root; ordinary containers cannot mount it (rule ordinary.helixvol)");
  body["hostconfig"]["binds"] = {"fresh:/data"};
  body["hostconfig"]["volumedriver"] = "helixvol";
  CHECK(Create(body).rule == "ordinary.helixvol");
  body = OrdinaryCreate();
  body["hostconfig"]["mounts"] = {{{"type", "volume"}, {"source", "golden"}, {"target", "/d"}}};
  CHECK(Create(body).rule == "ordinary.helixvol");
  body = OrdinaryCreate();
  body["hostconfig"]["volumesfrom"] = {"desktop-1:ro"};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.VolumesFrom[0]: volumes from container \"desktop-1\" are not "
        "allowed: it is privileged (HostConfig.CapAdd[0] \"ALL\") (rule ordinary.volumes_from)");
  body["hostconfig"]["volumesfrom"] = {"web"};
  CHECK(Create(body).allow);
  body = OrdinaryCreate();
  body["hostconfig"]["binds"] = {"cache:/cache", "/scratch"};
  CHECK(Create(body).allow);
}

TEST_CASE("a container whose volume has a helixvol mount is protected like a desktop", "[authz]") {
  FakeEngineView engine = TestEngine();
  ContainerInfo& holder = engine.AddContainer(std::string(64, '3'), "holder");
  holder.mounts.push_back({"volume", "s1", "", "/data", "helixvol:latest", true});
  json body = OrdinaryCreate();
  body["hostconfig"]["volumesfrom"] = {"holder"};
  CHECK(Create(body, &engine).message ==
        "helixauthz: HostConfig.VolumesFrom[0]: volumes from container \"holder\" are not "
        "allowed: it mounts helixvol volume \"s1\" (rule ordinary.volumes_from)");
}

TEST_CASE("local volume options that can bind host paths are refused in mounts", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["mounts"] = {
      {{"type", "volume"},
       {"source", "v"},
       {"target", "/v"},
       {"volumeoptions",
        {{"driverconfig",
          {{"name", "local"},
           {"options", {{"type", "none"}, {"o", "bind"}, {"device", "/etc"}}}}}}}}};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options: local volume "
        "options \"device\" are not allowed (they can bind host paths) (rule "
        "volumes.local_options)");
}

TEST_CASE("a mount through helixvol cannot clone another session's data root", "[authz]") {
  json body = DesktopCreate();
  body["hostconfig"]["binds"] = json::array();
  body["hostconfig"]["mounts"] = {
      {{"type", "volume"},
       {"source", "s3"},
       {"target", "/var/lib/docker"},
       {"volumeoptions",
        {{"driverconfig", {{"name", "helixvol"}, {"options", {{"from", "s1"}}}}}}}}};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options[\"from\"]: cloning "
        "volume \"s1\" is not allowed: it is not a snapshot (rule helixvol.from)");
  body["hostconfig"]["mounts"][0]["volumeoptions"]["driverconfig"]["options"]["from"] = "golden";
  CHECK(Create(body).allow);
}

TEST_CASE("runtimes, log drivers, sysctls, cgroup parents and OOM settings are limited",
          "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["runtime"] = "sysbox-runc";
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Runtime: runtime \"sysbox-runc\" is not allowed (rule "
        "ordinary.runtimes)");
  body = OrdinaryCreate();
  body["hostconfig"]["logconfig"] = {{"type", "syslog"},
                                     {"config", {{"syslog-address", "udp://10.0.0.1:514"}}}};
  CHECK(Create(body).rule == "ordinary.log_drivers");
  body["hostconfig"]["logconfig"]["type"] = "json-file";
  CHECK(Create(body).allow);
  body = OrdinaryCreate();
  body["hostconfig"]["sysctls"] = {{"kernel.shmmax", "1"}};
  CHECK(Create(body).rule == "ordinary.sysctls");
  body = DesktopCreate();
  body["hostconfig"]["cgroupparent"] = "/";
  CHECK(Create(body).rule == "cgroup_parent");
  body = OrdinaryCreate();
  body["hostconfig"]["oomscoreadj"] = -1000;
  CHECK(Create(body).rule == "oom");
  body = OrdinaryCreate();
  body["hostconfig"]["oomkilldisable"] = true;
  CHECK(Create(body).rule == "oom");
}

TEST_CASE("decisions fail closed when the engine cannot be asked", "[authz]") {
  FakeEngineView engine = TestEngine();
  engine.unreachable = true;
  Decision d = Create(DesktopCreate(), &engine);
  CHECK_FALSE(d.allow);
  CHECK(d.message ==
        "helixauthz: Image: image \"helix/desktop\" cannot be resolved: dial unix "
        "/run/docker.sock: connection refused" +
            kBecause + " (rule privileged.images)");
  json body = OrdinaryCreate();
  body["hostconfig"]["binds"] = {"cache:/cache"};
  CHECK(Create(body, &engine).rule == "resolve");
}

TEST_CASE("a body field of the wrong type is refused, not skipped", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["binds"] = "/:/host";
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds: expected a list of strings, got string (rule body)");
}
