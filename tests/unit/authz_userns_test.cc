// The second desktop shape: user-namespaced desktops on an engine with
// userns-remap. Requests are what the docker 28 CLI sends for
//   docker run -d --cap-add SYS_ADMIN --cap-add NET_ADMIN
//     --security-opt seccomp=<profile> --security-opt apparmor=unconfined
//     --sysctl net.ipv4.ip_forward=1 --label helix.session=u1 --memory 4g
//     --cpus 2 --pids-limit 4096 -v u1:/var/lib/docker helix/desktop
#include <catch2/catch.hpp>

#include "authz-plugin/docker/docker_values.h"
#include "common/json_compact.h"
#include "common/sha256.h"
#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using helix::CompactJson;
using nlohmann::json;

namespace {

const std::string kProfile = R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]})";
const std::string kProfileDigest = helix::Sha256Hex(kProfile);

// The shipped policy, version 2, with the desktop image as a userns desktop
// only (no privileged images), its profile pinned and idmap required.
std::shared_ptr<const Policy> UsernsPolicy(const std::function<void(json&)>& edit = [](json&) {}) {
  return TestPolicy([&](json& p) {
    p["version"] = 2;
    p["privileged"]["images"] = json::array();
    p["userns"] = {{"images", {kDesktopImageId}},
                   {"data_root", "/var/lib/docker"},
                   {"data_root_labels", {"helix.session"}},
                   {"data_root_options", {{"idmap", "0:100000:65536"}}},
                   {"labels", {{"helix.session", "*"}}},
                   {"limits", {{"memory", "16G"}, {"cpus", 4}, {"pids", 8192}}},
                   {"capabilities", {"SYS_ADMIN", "NET_ADMIN"}},
                   {"security_options",
                    {"seccomp=" + kProfileDigest, "apparmor=unconfined", "no-new-privileges=false",
                     "no-new-privileges=true"}},
                   {"sysctls", {"net.ipv4.ip_forward=1"}},
                   {"runtimes", {"runc"}},
                   {"log_drivers", {"json-file", "local"}}};
    edit(p);
  });
}

json UsernsCreate() {
  json j = OrdinaryCreate();
  j["image"] = "helix/desktop";
  j["cmd"] = nullptr;
  j["labels"] = {{"helix.session", "u1"}};
  auto& hc = j["hostconfig"];
  hc["capadd"] = {"SYS_ADMIN", "NET_ADMIN"};
  hc["securityopt"] = {"seccomp=" + kProfile, "apparmor=unconfined"};
  hc["sysctls"] = {{"net.ipv4.ip_forward", "1"}};
  hc["binds"] = {"u1:/var/lib/docker"};
  hc["memory"] = int64_t{4} << 30;
  hc["nanocpus"] = 2000000000;
  hc["pidslimit"] = 4096;
  return j;
}

// An engine with userns-remap and the session's data root, made with idmap.
FakeEngineView UsernsEngine() {
  FakeEngineView engine = TestEngine();
  engine.facts = {true, ""};
  VolumeInfo u1 = Volume("u1", "helixvol", false, "", {{"helix.session", "u1"}});
  u1.status = {{"idmap", "0:100000:65536"}};
  engine.volumes["u1"] = u1;
  return engine;
}

Decision Create(const json& body, FakeEngineView& engine,
                const std::shared_ptr<const Policy>& policy = UsernsPolicy()) {
  return Decide(*policy, Req("POST", "/containers/create", body), engine, engine.facts);
}

const std::string kBecause =
    "; the request is a user-namespaced desktop because of HostConfig.CapAdd[0] \"SYS_ADMIN\"";

}  // namespace

TEST_CASE("a seccomp profile sent inline is compared by its digest", "[authz]") {
  CHECK(NormalizeSecurityOpt("seccomp=" + kProfile) == "seccomp=" + kProfileDigest);
  CHECK(NormalizeSecurityOpt("seccomp=" + kProfileDigest) == "seccomp=" + kProfileDigest);
  CHECK(NormalizeSecurityOpt("seccomp=unconfined") == "seccomp=unconfined");
  CHECK(CompactJson("{ \"a\" : [1, 2],\n \"b\": \"x y\\\" z\" }") ==
        "{\"a\":[1,2],\"b\":\"x y\\\" z\"}");
  CHECK_FALSE(CompactJson("{\"a"));
}

TEST_CASE("a user-namespaced desktop of the right shape is admitted on a userns engine",
          "[authz]") {
  FakeEngineView engine = UsernsEngine();
  Decision d = Create(UsernsCreate(), engine);
  INFO(d.message);
  CHECK(d.allow);
}

TEST_CASE("user-namespaced desktops are refused on an engine without user namespaces", "[authz]") {
  FakeEngineView engine = UsernsEngine();
  engine.facts = {false, ""};
  Decision d = Create(UsernsCreate(), engine);
  CHECK(d.message ==
        "helixauthz: HostConfig: the engine does not run with user namespaces (userns-remap), "
        "so this desktop would be root on the host" +
            kBecause + " (rule userns.engine)");
  // Not known at the decision: the engine is asked then.
  engine.facts = {false, ""};
  Decision unknown =
      Decide(*UsernsPolicy(), Req("POST", "/containers/create", UsernsCreate()), engine, {});
  CHECK(unknown.rule == "userns.engine");
  engine.facts = {true, ""};
  CHECK(
      Decide(*UsernsPolicy(), Req("POST", "/containers/create", UsernsCreate()), engine, {}).allow);
  engine.unreachable = true;
  CHECK(
      Decide(*UsernsPolicy(), Req("POST", "/containers/create", UsernsCreate()), engine, {}).rule !=
      "");
}

TEST_CASE("what escapes the user namespace makes a request a privileged one", "[authz]") {
  FakeEngineView engine = UsernsEngine();
  const std::string privileged_image =
      "helixauthz: Image: image \"helix/desktop\" (" + kDesktopImageId +
      ") is not allowed to run privileged; the request is privileged because of ";
  json body = UsernsCreate();
  body["hostconfig"]["privileged"] = true;
  CHECK(Create(body, engine).message ==
        privileged_image + "HostConfig.Privileged true (rule privileged.images)");
  body = UsernsCreate();
  body["hostconfig"]["capadd"] = {"ALL"};
  CHECK(Create(body, engine).message ==
        privileged_image + "HostConfig.CapAdd[0] \"ALL\" (rule privileged.images)");
  body = UsernsCreate();
  body["hostconfig"]["securityopt"] = {"seccomp=unconfined"};
  // The reason given is what takes it beyond the userns shape, not the first
  // power it asks for.
  CHECK(Create(body, engine).message ==
        privileged_image +
            "HostConfig.SecurityOpt[0] \"seccomp=unconfined\" (rule privileged.images)");
  body = UsernsCreate();
  body["hostconfig"]["securityopt"] = {"seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"};
  CHECK(Create(body, engine).rule == "privileged.images");
  body = UsernsCreate();
  body["hostconfig"]["maskedpaths"] = json::array();  // systempaths=unconfined
  body["hostconfig"]["readonlypaths"] = json::array();
  CHECK(Create(body, engine).rule == "privileged.images");
  body = UsernsCreate();
  body["hostconfig"]["devices"] = {{{"PathOnHost", "/dev/fuse"}}};
  CHECK(Create(body, engine).rule == "privileged.images");
  CHECK(Create(body, engine).message.find("because of HostConfig.Devices") != std::string::npos);
  body = UsernsCreate();
  body["hostconfig"]["usernsmode"] = "host";  // the one escape from the remap
  CHECK(Create(body, engine).message ==
        "helixauthz: HostConfig.UsernsMode: host namespace \"host\" is not allowed (rule "
        "namespaces)");
}

TEST_CASE("a user-namespaced desktop keeps to its sysctls and its data root's options", "[authz]") {
  FakeEngineView engine = UsernsEngine();
  json body = UsernsCreate();
  body["hostconfig"]["sysctls"] = {{"net.ipv4.ip_forward", "0"}};
  CHECK(Create(body, engine).message ==
        "helixauthz: HostConfig.Sysctls[\"net.ipv4.ip_forward\"]: sysctl "
        "\"net.ipv4.ip_forward=0\" is not allowed (rule userns.sysctls)");
  body["hostconfig"]["sysctls"] = {{"kernel.shm_rmid_forced", "1"}};
  CHECK(Create(body, engine).rule == "userns.sysctls");
  engine.volumes["u1"].status.clear();
  CHECK(Create(UsernsCreate(), engine).message ==
        "helixauthz: HostConfig.Binds[0]: data root \"u1\" needs helixvol option "
        "idmap=0:100000:65536, has none" +
            kBecause + " (rule userns.data_root)");
  // A data root made by this create must ask for it.
  body = UsernsCreate();
  body["labels"] = {{"helix.session", "u2"}};
  body["hostconfig"]["binds"] = {"u2:/var/lib/docker"};
  CHECK(Create(body, engine).rule == "userns.data_root");
  body["hostconfig"]["binds"] = nullptr;
  body["hostconfig"]["mounts"] = {
      {{"Type", "volume"},
       {"Source", "u2"},
       {"Target", "/var/lib/docker"},
       {"VolumeOptions",
        {{"DriverConfig", {{"Name", "helixvol"}, {"Options", {{"idmap", "0:100000:65536"}}}}}}}}};
  Decision d = Create(body, engine);
  INFO(d.message);
  CHECK(d.allow);
}

TEST_CASE("exec into a user-namespaced desktop follows its own shape's rule", "[authz]") {
  FakeEngineView engine = UsernsEngine();
  ContainerInfo& u = engine.AddContainer(
      std::string(64, 'a'), "udesk",
      {{"CapAdd", {"SYS_ADMIN", "NET_ADMIN"}}, {"SecurityOpt", {"seccomp=" + kProfile}}});
  u.mounts.push_back({"volume", "u1", "", "/var/lib/docker", "helixvol", true});
  auto policy = UsernsPolicy();
  Decision d = Decide(*policy, Req("POST", "/containers/udesk/exec", json{{"Cmd", {"sh"}}}), engine,
                      engine.facts);
  CHECK(d.message ==
        "helixauthz: POST /containers/udesk/exec: exec into container \"udesk\" is not allowed: "
        "it is a user-namespaced desktop (HostConfig.CapAdd[0] \"SYS_ADMIN\") (rule "
        "userns.exec)");
  auto lenient = UsernsPolicy([](json& p) { p["userns"]["exec"] = true; });
  CHECK(Decide(*lenient, Req("POST", "/containers/udesk/exec", json{{"Cmd", {"sh"}}}), engine,
               engine.facts)
            .allow);
}

TEST_CASE("the userns shape needs schema version 2; version 1 policies still load", "[authz]") {
  auto v1 = ParsePolicy(R"({"version": 1, "privileged": {"exec": false}})", "p.json");
  REQUIRE(v1.ok());
  CHECK((*v1)->version == 1);
  CHECK_FALSE((*v1)->rules.userns.enabled());
  auto bad = ParsePolicy(R"({"version": 1,
    "userns": {"capabilities": ["SYS_ADMIN"]}})",
                         "p.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message() == "p.json:1: \"version\": \"userns\" desktops need version 2");
  auto unknown =
      ParsePolicy(R"({"version": 2, "userns": {"data_root_options": {"size": "1G"}}})", "p.json");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message() ==
        "p.json:1: \"userns.data_root_options.size\": unknown helixvol option (valid: owner, "
        "idmap)");
}
