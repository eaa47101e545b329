// The gaps of the second review: a desktop tied to its session's data root,
// map keys compared exactly, published ports and network addresses within
// the policy, swap capped, a desktop's command pinned to its image's, the
// docker 28 CLI's update, and the host network under another name.
#include <catch2/catch.hpp>

#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

template <typename Edit>
Decision Run(const NormalizedRequest& req, Edit edit, FakeEngineView* engine = nullptr) {
  auto policy = TestPolicy(edit);
  FakeEngineView local = TestEngine();
  return Decide(*policy, req, engine ? *engine : local);
}

Decision Run(const NormalizedRequest& req, FakeEngineView* engine = nullptr) {
  return Run(
      req, [](json&) {}, engine);
}

Decision Create(const json& body, FakeEngineView* engine = nullptr) {
  return Run(Req("POST", "/containers/create", body), engine);
}

const std::string kBecause = "; the request is privileged because of HostConfig.CapAdd[0] \"ALL\"";

}  // namespace

TEST_CASE("a desktop's data root must carry the desktop's session label", "[authz]") {
  json body = DesktopCreate();  // session s1 on s1, labelled s1
  CHECK(Create(body).allow);
  body["labels"] = {{"helix.session", "s2"}};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds[0]: data root \"s1\" belongs to another session "
        "(\"helix.session\" \"s2\" here, \"s1\" on the volume)" +
            kBecause + " (rule privileged.data_root)");
  body["hostconfig"]["binds"] = {"golden:/var/lib/docker"};  // a volume without the label
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.Binds[0]: data root \"golden\" belongs to another session "
        "(\"helix.session\" \"s2\" here, no label \"helix.session\" on the volume)" +
            kBecause + " (rule privileged.data_root)");
  // A data root that does not exist yet is made fresh by this create.
  body["hostconfig"]["binds"] = {"s2:/var/lib/docker"};
  CHECK(Create(body).allow);
}

TEST_CASE("a data root name pattern is built from the desktop's labels", "[authz]") {
  auto pattern = [](json& p) { p["privileged"]["data_root_name"] = "{helix.session}-*"; };
  json body = DesktopCreate();
  body["hostconfig"]["binds"] = {"s7-root:/var/lib/docker"};
  body["labels"] = {{"helix.session", "s7"}};
  CHECK(Run(Req("POST", "/containers/create", body), pattern).allow);
  body["hostconfig"]["binds"] = {"s8-root:/var/lib/docker"};
  CHECK(Run(Req("POST", "/containers/create", body), pattern).message ==
        "helixauthz: HostConfig.Binds[0]: data root \"s8-root\" is not this session's (its name "
        "must match \"s7-*\")" +
            kBecause + " (rule privileged.data_root)");
  body["labels"] = {{"helix.session", "*"}};  // a label value is literal, never a wildcard
  CHECK(Run(Req("POST", "/containers/create", body), pattern).rule == "privileged.data_root");
}

TEST_CASE("label keys are compared exactly: HELIX.SESSION is not helix.session", "[authz]") {
  json body = DesktopCreate();
  body["labels"] = {{"HELIX.SESSION", "s1"}};
  CHECK(Create(body).message == "helixauthz: Labels: label \"helix.session\" is required" +
                                    kBecause + " (rule privileged.labels)");
}

TEST_CASE("published ports bind only where the policy says", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["portbindings"] = {
      {"80/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", "8080"}}}}};
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.PortBindings[\"80/tcp\"][0]: publishing on 127.0.0.1, port 8080 "
        "is not allowed (rule published_ports)");
  auto allow = [](json& p) {
    p["published_ports"] = {{{"host_ip", "127.0.0.1"}, {"ports", "8000-8999"}}};
  };
  auto req = Req("POST", "/containers/create", body);
  CHECK(Run(req, allow).allow);
  body["hostconfig"]["portbindings"]["80/tcp"][0]["HostIp"] = "";  // every address
  CHECK(Run(Req("POST", "/containers/create", body), allow).message ==
        "helixauthz: HostConfig.PortBindings[\"80/tcp\"][0]: publishing on every address, port "
        "8080 is not allowed (rule published_ports)");
  body["hostconfig"]["portbindings"]["80/tcp"][0] = {{"HostIp", "127.0.0.1"}, {"HostPort", ""}};
  CHECK(Run(Req("POST", "/containers/create", body), allow).rule == "published_ports");
  body["hostconfig"]["portbindings"] = json::object();
  body["hostconfig"]["publishallports"] = true;
  CHECK(Run(Req("POST", "/containers/create", body), allow).message ==
        "helixauthz: HostConfig.PublishAllPorts: publishing on every address, port picked by "
        "the engine is not allowed (rule published_ports)");
}

TEST_CASE("network addresses stay within the policy's pools; no link-local, no IPv6", "[authz]") {
  auto pools = [](json& p) { p["networks"]["pools"] = {"10.210.0.0/16"}; };
  auto net = [](const std::string& subnet) {
    return Req("POST", "/networks/create",
               json{{"Name", "n"}, {"IPAM", {{"Config", {{{"Subnet", subnet}}}}}}});
  };
  CHECK(Run(net("10.210.3.0/24"), pools).allow);
  CHECK(Run(net("10.210.3.0/24")).message ==
        "helixauthz: IPAM.Config[0].Subnet: \"10.210.3.0/24\" is not within the policy's network "
        "pools (rule networks.addresses)");
  CHECK(Run(net("169.254.0.0/16"), pools).message ==
        "helixauthz: IPAM.Config[0].Subnet: \"169.254.0.0/16\" is in the link-local range, which "
        "is not allowed (rule networks.addresses)");
  CHECK(Run(net("fd00::/64"), pools).rule == "networks.ipv6");
  CHECK(Run(Req("POST", "/networks/create", json{{"Name", "n"}, {"EnableIPv6", true}})).message ==
        "helixauthz: EnableIPv6: true is not allowed (it switches on IPv6 forwarding on the host) "
        "(rule networks.ipv6)");
  json gw = {{"Name", "n"},
             {"IPAM",
              {{"Config",
                {{{"Subnet", "10.210.3.0/24"},
                  {"Gateway", "10.1.1.1"},
                  {"AuxiliaryAddresses", {{"h", "10.210.3.9"}}}}}}}}};
  CHECK(Run(Req("POST", "/networks/create", gw), pools).rule == "networks.addresses");
  // Harmless twin: a network without addresses gets the engine's own pools.
  CHECK(Run(Req("POST", "/networks/create", json{{"Name", "n"}, {"Driver", "bridge"}})).allow);
  json connect = {{"Container", "web"},
                  {"EndpointConfig", {{"IPAMConfig", {{"LinkLocalIPs", {"169.254.169.254"}}}}}}};
  CHECK(Run(Req("POST", "/networks/n/connect", connect)).message ==
        "helixauthz: EndpointConfig.IPAMConfig.LinkLocalIPs: link-local address "
        "\"169.254.169.254\" is not allowed (rule networks.addresses)");
}

TEST_CASE("the host network is refused by ID and ID prefix too", "[authz]") {
  FakeEngineView engine = TestEngine();
  engine.networks["host"] = {"77e1c0ffee", "host", "host"};
  engine.networks["n1"] = {"ab12", "n1", "bridge"};
  json body = OrdinaryCreate();
  body["hostconfig"]["networkmode"] = "77e1";
  CHECK(Create(body, &engine).message ==
        "helixauthz: HostConfig.NetworkMode: network \"77e1\" is the host network (host), which "
        "is not allowed (rule namespaces)");
  body["hostconfig"]["networkmode"] = "n1";
  body["networkingconfig"] = {{"endpointsconfig", {{"77e1c0ffee", json::object()}}}};
  CHECK(Create(body, &engine).rule == "namespaces");
  CHECK(Run(Req("POST", "/networks/77e1/connect", json{{"Container", "web"}}), &engine).rule ==
        "namespaces");
  body["networkingconfig"] = {{"endpointsconfig", {{"n1", json::object()}}}};
  CHECK(Create(body, &engine).allow);
}

TEST_CASE("swap is capped on create and on update", "[authz]") {
  json body = DesktopCreate();  // 8g memory, swap default twice that
  CHECK(Create(body).allow);
  body["hostconfig"]["memoryswap"] = int64_t{200} << 30;
  CHECK(Create(body).message ==
        "helixauthz: HostConfig.MemorySwap: memory plus swap 214748364800 is more than 128GiB" +
            kBecause + " (rule privileged.limits)");
  auto tight = [](json& p) {
    p["privileged"]["limits"]["memory"] = "8G";
    p["privileged"]["limits"]["memory_swap"] = "10G";
  };
  body["hostconfig"]["memoryswap"] = 0;  // dockerd makes it 16g
  CHECK(Run(Req("POST", "/containers/create", body), tight).message ==
        "helixauthz: HostConfig.MemorySwap: memory plus swap (twice Memory by default) 16GiB "
        "is more than 10GiB" +
            kBecause + " (rule privileged.limits)");
  CHECK(ParsePolicy(R"({"version": 1, "privileged": {"limits": {"memory": "2G", "cpus": 1,
      "pids": 10, "memory_swap": "1G"}}})",
                    "p.json")
            .error()
            .message() ==
        "p.json:2: \"privileged.limits.memory_swap\": must be at least \"memory\" (it counts "
        "memory plus swap)");
  Decision update =
      Run(Req("POST", "/containers/desktop-1/update", json{{"MemorySwap", int64_t{200} << 30}}));
  CHECK(update.rule == "privileged.limits");
  CHECK(Run(Req("POST", "/containers/desktop-1/update", json{{"MemorySwap", int64_t{9} << 30}}))
            .allow);
}

TEST_CASE("a desktop runs its image's own command", "[authz]") {
  FakeEngineView engine = TestEngine();
  engine.images["helix/desktop"].config = {{"Entrypoint", {"/entry"}},
                                           {"Cmd", {"dockerd"}},
                                           {"User", ""},
                                           {"WorkingDir", "/"},
                                           {"Healthcheck", {{"Test", {"CMD", "docker", "info"}}}}};
  json body = DesktopCreate();
  CHECK(Create(body, &engine).allow);
  body["entrypoint"] = {"sh", "-c"};
  CHECK(Create(body, &engine).message ==
        "helixauthz: Entrypoint: entrypoint [\"sh\",\"-c\"] is not the image's own "
        "([\"/entry\"])" +
            kBecause + " (rule privileged.command)");
  body["entrypoint"] = json::array();  // no entrypoint at all: Cmd runs bare
  CHECK(Create(body, &engine).rule == "privileged.command");
  body["entrypoint"] = nullptr;
  body["cmd"] = {"sh", "-c", "mount /dev/vda /mnt"};
  CHECK(Create(body, &engine).message ==
        "helixauthz: Cmd: command [\"sh\",\"-c\",\"mount /dev/vda /mnt\"] is not the image's "
        "own ([\"dockerd\"])" +
            kBecause + " (rule privileged.command)");
  body["cmd"] = {"dockerd"};  // spelled out, the same
  CHECK(Create(body, &engine).allow);
  body["entrypoint"] = {"/entry"};  // an entrypoint given drops the image's Cmd: not the same
  body["cmd"] = nullptr;
  CHECK(Create(body, &engine).rule == "privileged.command");
  body = DesktopCreate();
  body["user"] = "1000";
  CHECK(Create(body, &engine).rule == "privileged.command");
  body = DesktopCreate();
  body["workingdir"] = "/tmp";
  CHECK(Create(body, &engine).rule == "privileged.command");
  body = DesktopCreate();
  body["healthcheck"] = {{"Test", {"CMD-SHELL", "touch /pwned"}}};
  CHECK(Create(body, &engine).message ==
        "helixauthz: Healthcheck.Test: health check [\"CMD-SHELL\",\"touch /pwned\"] is not the "
        "image's own ([\"CMD\",\"docker\",\"info\"]); it would run as root in the desktop" +
            kBecause + " (rule privileged.command)");
  body["healthcheck"] = {{"Test", {"NONE"}}};
  CHECK(Create(body, &engine).allow);
  body["healthcheck"] = {{"Interval", 1000000000}};  // the image's test, another interval
  CHECK(Create(body, &engine).allow);
  body = DesktopCreate();
  body["env"] = {"HELIX_PRELOAD=/helix-preload"};  // Env stays free
  CHECK(Create(body, &engine).allow);
  // A policy that does not pin the command lets it be replaced.
  body["cmd"] = {"sh"};
  CHECK(Run(
            Req("POST", "/containers/create", body),
            [](json& p) { p["privileged"]["pin_command"] = false; }, &engine)
            .allow);
}

TEST_CASE("docker update from the 28 CLI, zero values and all, is allowed", "[authz]") {
  // Captured from `docker update --memory 100m --memory-swap 200m c1`.
  const json update = json::parse(R"({"CpuShares":0,"Memory":104857600,"NanoCpus":0,
    "CgroupParent":"","BlkioWeight":0,"BlkioWeightDevice":null,"BlkioDeviceReadBps":null,
    "BlkioDeviceWriteBps":null,"BlkioDeviceReadIOps":null,"BlkioDeviceWriteIOps":null,
    "CpuPeriod":0,"CpuQuota":0,"CpuRealtimePeriod":0,"CpuRealtimeRuntime":0,"CpusetCpus":"",
    "CpusetMems":"","Devices":null,"DeviceCgroupRules":null,"DeviceRequests":null,
    "MemoryReservation":0,"MemorySwap":209715200,"MemorySwappiness":null,
    "OomKillDisable":null,"PidsLimit":null,"Ulimits":null,"CpuCount":0,"CpuPercent":0,
    "IOMaximumIOps":0,"IOMaximumBandwidth":0,"RestartPolicy":{"Name":"","MaximumRetryCount":0}})");
  Decision ordinary = Run(Req("POST", "/containers/web/update", update));
  INFO(ordinary.message);
  CHECK(ordinary.allow);
  Decision desktop = Run(Req("POST", "/containers/desktop-1/update", update));
  INFO(desktop.message);
  CHECK(desktop.allow);
  json raise = update;
  raise["Memory"] = int64_t{100} << 30;
  CHECK(Run(Req("POST", "/containers/desktop-1/update", raise)).rule == "privileged.limits");
}
