#include <catch2/catch.hpp>

#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

Decision Run(const NormalizedRequest& req, FakeEngineView* engine = nullptr) {
  auto policy = TestPolicy();
  FakeEngineView local = TestEngine();
  return Decide(*policy, req, engine ? *engine : local);
}

NormalizedRequest WithQuery(NormalizedRequest r, const std::string& key, const std::string& v) {
  r.query.insert({key, v});
  return r;
}

const std::string kPrivileged = "it is privileged (HostConfig.CapAdd[0] \"ALL\")";

}  // namespace

TEST_CASE("exec with Privileged true is refused on every container", "[authz]") {
  Decision d = Run(Req("POST", "/containers/web/exec",
                       json{{"cmd", {"sh"}}, {"privileged", true}, {"attachstdin", true}}));
  CHECK(d.message ==
        "helixauthz: Privileged: true is not allowed for an exec on any container (it "
        "grants all capabilities) (rule exec.privileged)");
}

TEST_CASE("exec into a privileged container is refused, by name or ID prefix", "[authz]") {
  json body = {{"cmd", {"sh"}}, {"privileged", false}};
  CHECK(Run(Req("POST", "/containers/desktop-1/exec", body)).message ==
        "helixauthz: POST /containers/desktop-1/exec: exec into container \"desktop-1\" is not "
        "allowed: " +
            kPrivileged + " (rule privileged.exec)");
  CHECK(Run(Req("POST", "/containers/1111/exec", body)).rule == "privileged.exec");
  CHECK(Run(Req("POST", "/containers/web/exec", body)).allow);
  CHECK(Run(Req("POST", "/containers/2222/exec", body)).allow);
  auto policy = TestPolicy([](json& j) { j["privileged"]["exec"] = true; });
  FakeEngineView engine = TestEngine();
  CHECK(Decide(*policy, Req("POST", "/containers/desktop-1/exec", body), engine).allow);
}

TEST_CASE("a container that cannot be resolved is refused", "[authz]") {
  json body = {{"cmd", {"sh"}}};
  CHECK(Run(Req("POST", "/containers/ghost/exec", body)).message ==
        "helixauthz: POST /containers/ghost/exec: container \"ghost\" cannot be resolved: No such "
        "container: ghost (rule resolve)");
  FakeEngineView engine = TestEngine();
  engine.AddContainer("1111" + std::string(60, 'c'), "twin");  // "1111" is now ambiguous
  CHECK(Run(Req("POST", "/containers/1111/exec", body), &engine).rule == "resolve");
}

TEST_CASE("attach to a privileged container is read-only", "[authz]") {
  NormalizedRequest attach = Req("POST", "/containers/desktop-1/attach");
  CHECK(Run(WithQuery(attach, "stdout", "1")).allow);
  CHECK(Run(WithQuery(attach, "stdin", "1")).message ==
        "helixauthz: POST /containers/desktop-1/attach: attaching stdin to container "
        "\"desktop-1\" is not allowed: " +
            kPrivileged + " (rule containers.attach)");
  CHECK(Run(WithQuery(attach, "stdin", "yes")).rule == "containers.attach");
  CHECK(Run(WithQuery(attach, "stdin", "false")).allow);
  CHECK(Run(WithQuery(Req("POST", "/containers/web/attach"), "stdin", "1")).allow);
}

TEST_CASE("websocket attach to a privileged container is refused", "[authz]") {
  CHECK(Run(Req("GET", "/containers/desktop-1/attach/ws")).rule == "containers.attach");
  CHECK(Run(Req("GET", "/containers/web/attach/ws")).allow);
}

TEST_CASE("files of a privileged container cannot be read or written", "[authz]") {
  CHECK(Run(Req("GET", "/containers/desktop-1/archive")).message ==
        "helixauthz: GET /containers/desktop-1/archive: reading files of container "
        "\"desktop-1\" is not allowed: " +
            kPrivileged + " (rule containers.files)");
  CHECK(Run(Req("HEAD", "/containers/desktop-1/archive")).rule == "containers.files");
  CHECK(Run(Req("GET", "/containers/desktop-1/export")).rule == "containers.files");
  NormalizedRequest upload = Req("PUT", "/containers/desktop-1/archive");
  upload.body_declared = true;  // a tar: never forwarded as JSON
  CHECK(Run(upload).message ==
        "helixauthz: PUT /containers/desktop-1/archive: writing files into container "
        "\"desktop-1\" is not allowed: " +
            kPrivileged + " (rule containers.files)");
  upload.path = "/containers/web/archive";
  CHECK(Run(upload).allow);
  CHECK(Run(Req("GET", "/containers/web/export")).allow);
}

TEST_CASE("logs of privileged containers follow privileged.logs", "[authz]") {
  CHECK(Run(Req("GET", "/containers/desktop-1/logs")).allow);
  auto policy = TestPolicy([](json& j) { j["privileged"]["logs"] = false; });
  FakeEngineView engine = TestEngine();
  CHECK(Decide(*policy, Req("GET", "/containers/desktop-1/logs"), engine).rule ==
        "privileged.logs");
  CHECK(Decide(*policy, Req("GET", "/containers/web/logs"), engine).allow);
}

TEST_CASE("updates keep a privileged container within the limits", "[authz]") {
  auto update = [](json body) { return Req("POST", "/containers/desktop-1/update", body); };
  CHECK(Run(update({{"memory", 4294967296}, {"restartpolicy", {{"name", "always"}}}})).allow);
  CHECK(Run(update({{"memory", 1ll << 40}})).message ==
        "helixauthz: Memory: limit 1099511627776 must be set and at most 64GiB; container "
        "\"desktop-1\" is protected: " +
            kPrivileged + " (rule privileged.limits)");
  CHECK(Run(update({{"pidslimit", 0}})).rule == "privileged.limits");
  CHECK(Run(update({{"pidslimit", -1}})).rule == "privileged.limits");
  CHECK(Run(update({{"cpuquota", -1}})).rule == "privileged.limits");
  CHECK(Run(update({{"memoryswap", -1}})).rule == "privileged.limits");
  CHECK(Run(Req("POST", "/containers/web/update", json{{"memory", 1ll << 40}})).allow);
}

TEST_CASE("updates cannot add devices to any container", "[authz]") {
  Decision d =
      Run(Req("POST", "/containers/web/update", json{{"devices", {{{"pathonhost", "/dev/sda"}}}}}));
  CHECK(d.message ==
        "helixauthz: Devices: changing Devices is not allowed (rule containers.update)");
  CHECK(
      Run(Req("POST", "/containers/web/update", json{{"devicecgrouprules", {"a *:* rwm"}}})).rule ==
      "containers.update");
}

TEST_CASE("a privileged container cannot be renamed", "[authz]") {
  CHECK(Run(Req("POST", "/containers/desktop-1/rename")).rule == "containers.rename");
  CHECK(Run(Req("POST", "/containers/web/rename")).allow);
}

TEST_CASE("lifecycle requests are allowed without resolving the container", "[authz]") {
  FakeEngineView engine = TestEngine();
  for (const char* action : {"stop", "kill", "pause", "unpause", "wait", "resize"}) {
    CHECK(Run(Req("POST", std::string("/containers/desktop-1/") + action), &engine).allow);
  }
  CHECK(Run(Req("DELETE", "/containers/desktop-1"), &engine).allow);
  CHECK(engine.lookups.empty());
}

TEST_CASE("exec instances are started, resized and inspected by ID", "[authz]") {
  CHECK(Run(Req("POST", "/exec/0123abcd/start", json{{"detach", false}, {"tty", true}})).allow);
  CHECK(Run(Req("POST", "/exec/0123abcd/resize")).allow);
  CHECK(Run(Req("GET", "/exec/0123abcd/json")).allow);
}

TEST_CASE("an inspected container's default CgroupnsMode host does not make it privileged",
          "[authz]") {
  // On cgroup v1 dockerd reports CgroupnsMode "host" for every container.
  FakeEngineView engine = TestEngine();
  engine.AddContainer(std::string(64, 'c'), "plain", {{"cgroupnsmode", "host"}});
  CHECK(Run(WithQuery(Req("POST", "/containers/plain/attach"), "stdin", "1"), &engine).allow);
}
