// Shared pieces of the decision engine's unit tests: the shipped policy with
// a known desktop image allowed, requests built the way the docker 28 CLI
// sends them (struct keys in lower case, which Go's decoder and Member()
// match case-insensitively, so that tests can edit them by one spelling;
// map keys such as labels exact), and a fake engine holding the objects
// those requests name.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "authz-plugin/decide/policy_engine.h"
#include "authz-plugin/policy/policy.h"
#include "authz-plugin/request/request.h"
#include "fakes/fake_engine_view.h"

namespace helix::authz::testing {

inline const std::string kDesktopImageId = "sha256:" + std::string(64, 'd');
inline const std::string kBusyboxImageId = "sha256:" + std::string(64, 'b');
inline const std::string kDigestImageId = "sha256:" + std::string(64, 'e');
inline const std::string kAllowedDigest = "sha256:" + std::string(64, 'f');
inline const std::string kDesktopId = std::string(8, '1') + std::string(56, 'a');
inline const std::string kOrdinaryId = std::string(8, '2') + std::string(56, 'b');

inline std::string RepoRoot() {
  std::string file = __FILE__;  // <root>/tests/fakes/authz_fixtures.h
  return file.substr(0, file.rfind("/tests/"));
}

inline std::string ShippedPolicyText() {
  std::ifstream in(RepoRoot() + "/authz-plugin/policy.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The shipped policy, with the desktop image and a repo digest allowed and
// `edit` applied to its JSON.
template <typename Edit>
std::shared_ptr<const Policy> TestPolicy(Edit edit) {
  nlohmann::json j = nlohmann::json::parse(ShippedPolicyText());
  j["privileged"]["images"] = {kDesktopImageId, "helix/other@" + kAllowedDigest};
  edit(j);
  auto policy = ParsePolicy(j.dump(2), "test-policy.json");
  REQUIRE(policy.ok());
  return *policy;
}
inline std::shared_ptr<const Policy> TestPolicy() {
  return TestPolicy([](nlohmann::json&) {});
}

inline NormalizedRequest Req(const std::string& method, const std::string& path,
                             std::optional<nlohmann::json> body = std::nullopt) {
  NormalizedRequest r;
  r.method = method;
  r.path = path;
  r.api_version = "1.41";
  r.body_declared = body.has_value();
  // What Docker's clients send: a JSON body with its length and type, and
  // "Content-Length: 0" on a POST or PUT without one.
  if (body) {
    r.content_length = body->dump().size();
    r.content_type = "application/json";
  } else if (method == "POST" || method == "PUT") {
    r.content_length = 0;
  }
  r.body = std::move(body);
  return r;
}

// What `docker run` (CLI 28) sends for an ordinary `docker run busybox`,
// keys folded.
inline nlohmann::json OrdinaryCreate() {
  return nlohmann::json::parse(R"({
    "hostname": "", "domainname": "", "user": "", "attachstdin": false,
    "attachstdout": true, "attachstderr": true, "tty": false, "openstdin": false,
    "stdinonce": false, "env": null, "cmd": ["true"], "image": "busybox",
    "volumes": {}, "workingdir": "", "entrypoint": null, "onbuild": null, "labels": {},
    "hostconfig": {
      "binds": null, "containeridfile": "", "logconfig": {"type": "", "config": {}},
      "networkmode": "default", "portbindings": {},
      "restartpolicy": {"name": "no", "maximumretrycount": 0}, "autoremove": false,
      "volumedriver": "", "volumesfrom": null, "consolesize": [0, 0], "capadd": null,
      "capdrop": null, "cgroupnsmode": "", "dns": [], "dnsoptions": [], "dnssearch": [],
      "extrahosts": null, "groupadd": null, "ipcmode": "", "cgroup": "", "links": null,
      "oomscoreadj": 0, "pidmode": "", "privileged": false, "publishallports": false,
      "readonlyrootfs": false, "securityopt": null, "utsmode": "", "usernsmode": "",
      "shmsize": 0, "isolation": "", "cpushares": 0, "memory": 0, "nanocpus": 0,
      "cgroupparent": "", "blkioweight": 0, "blkioweightdevice": [],
      "blkiodevicereadbps": [], "blkiodevicewritebps": [], "blkiodevicereadiops": [],
      "blkiodevicewriteiops": [], "cpuperiod": 0, "cpuquota": 0, "cpurealtimeperiod": 0,
      "cpurealtimeruntime": 0, "cpusetcpus": "", "cpusetmems": "", "devices": [],
      "devicecgrouprules": null, "devicerequests": null, "memoryreservation": 0,
      "memoryswap": 0, "memoryswappiness": null, "oomkilldisable": null, "pidslimit": null,
      "ulimits": [], "cpucount": 0, "cpupercent": 0, "iomaximumiops": 0,
      "iomaximumbandwidth": 0, "maskedpaths": null, "readonlypaths": null
    },
    "networkingconfig": {"endpointsconfig": {}}
  })");
}

// `docker run -d --cap-add ALL --cap-drop SYS_RESOURCE --security-opt
// seccomp=unconfined --security-opt apparmor=unconfined --security-opt
// systempaths=unconfined --device-cgroup-rule 'a *:* rwm'
// --volume-driver helixvol -v s1:/var/lib/docker --memory 8g --cpus 4
// --pids-limit 4096 --label helix.session=s1 helix/desktop`: the
// privileged-equivalent desktop.
inline nlohmann::json DesktopCreate() {
  nlohmann::json j = OrdinaryCreate();
  j["image"] = "helix/desktop";
  j["cmd"] = nullptr;  // the image's own command
  j["labels"] = {{"helix.session", "s1"}};
  auto& hc = j["hostconfig"];
  hc["capadd"] = {"ALL"};
  hc["capdrop"] = {"CAP_SYS_RESOURCE"};
  hc["securityopt"] = {"seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"};
  hc["devicecgrouprules"] = {"a *:* rwm"};
  hc["volumedriver"] = "helixvol";
  hc["binds"] = {"s1:/var/lib/docker"};
  hc["memory"] = 8589934592;
  hc["nanocpus"] = 4000000000;
  hc["pidslimit"] = 4096;
  return j;
}

// An engine with the desktop image, busybox, a running desktop and an
// ordinary container, the desktop's data root s1 (labelled for session s1),
// a snapshot, a preload working root and a local volume.
inline FakeEngineView TestEngine() {
  FakeEngineView engine;
  engine.images["helix/desktop"] = {kDesktopImageId, {}};
  engine.images["busybox"] = {kBusyboxImageId, {}};
  engine.images["helix/other:1"] = {kDigestImageId, {"helix/other@" + kAllowedDigest}};
  ContainerInfo& desktop = engine.AddContainer(
      kDesktopId, "desktop-1",
      {{"privileged", false}, {"capadd", {"ALL"}}, {"securityopt", {"seccomp=unconfined"}}});
  desktop.mounts.push_back({"volume", "s1", "", "/var/lib/docker", "helixvol", true});
  engine.AddContainer(kOrdinaryId, "web", {{"privileged", false}});
  engine.volumes["golden"] = Volume("golden", "helixvol", true, "helixvol-preload-1");
  engine.volumes["s1"] = Volume("s1", "helixvol", false, "golden", {{"helix.session", "s1"}});
  engine.volumes["helixvol-preload-1"] = Volume("helixvol-preload-1", "helixvol");
  engine.volumes["cache"] = Volume("cache", "local");
  return engine;
}

}  // namespace helix::authz::testing
