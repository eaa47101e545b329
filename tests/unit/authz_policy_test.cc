#include <catch2/catch.hpp>
#include <string>

#include "authz-plugin/policy/policy.h"
#include "fakes/authz_fixtures.h"
#include "fakes/temp_dir.h"

using helix::authz::LoadPolicy;
using helix::authz::ParsePolicy;
using helix::authz::testing::ShippedPolicyText;

namespace {

std::string PolicyError(const std::string& text) {
  auto p = ParsePolicy(text, "policy.json");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().kind() == helix::ErrorKind::kInvalidArgument);
  return p.error().message();
}

const std::string kId = "sha256:" + std::string(64, 'a');

}  // namespace

TEST_CASE("the shipped policy loads and refuses privileged containers until images are listed",
          "[authz]") {
  auto p = ParsePolicy(ShippedPolicyText(), "policy.json");
  REQUIRE(p.ok());
  const auto& rules = (*p)->rules;
  CHECK((*p)->min_api_version == "1.40");
  CHECK(rules.privileged.image_ids.empty());
  CHECK(rules.privileged.max_memory == 64ll << 30);
  CHECK(rules.privileged.max_nano_cpus == 16000000000ll);
  CHECK(rules.privileged.max_pids == 32768);
  CHECK(rules.privileged.allowed.capabilities == std::vector<std::string>{"ALL"});
  CHECK_FALSE(rules.image_management);
  CHECK((*p)->RulesFor("helix-admin").image_management);
  CHECK_FALSE((*p)->RulesFor("").image_management);
}

TEST_CASE("a policy without a version is refused", "[authz]") {
  CHECK(PolicyError("{}") == R"(policy.json:1: "version": required (1 or 2))");
  CHECK(PolicyError("{\n  \"version\": 3\n}") ==
        R"(policy.json:2: "version": unsupported version 3 (supported: 1, 2))");
}

TEST_CASE("an unknown key is an error naming its line and the valid keys", "[authz]") {
  CHECK(PolicyError("{\"version\": 1,\n \"privileged\": {\n  \"exec\": false,\n  \"imagse\": []\n "
                    "}\n}") ==
        R"(policy.json:4: "privileged.imagse": unknown key (valid: capabilities, )"
        R"(security_options, device_cgroup_rules, devices, device_requests, sysctls, runtimes, )"
        R"(log_drivers, images, data_root, labels, data_root_labels, data_root_name, )"
        R"(pin_command, data_root_options, limits, extra_volumes, exec, logs))");
}

TEST_CASE("a malformed image ID names the entry and its line", "[authz]") {
  std::string text =
      "{\n\"version\": 1,\n\"privileged\": {\n\"limits\": {\"memory\": \"1G\", "
      "\"cpus\": 1, \"pids\": 10},\n\"images\": [\n\"" +
      kId + "\",\n\"foo\"\n]}}";
  CHECK(PolicyError(text) == R"(policy.json:7: "privileged.images[1]": "foo" is not an image ID )"
                             R"((sha256:<64 hex>) or repo digest (name@sha256:<64 hex>))");
}

TEST_CASE("values of the wrong type are refused with their key", "[authz]") {
  CHECK(PolicyError(R"({"version": 1, "image_management": "yes"})") ==
        R"(policy.json:1: "image_management": expected true or false, got string)");
  CHECK(PolicyError(R"({"version": 1, "host_paths": "/srv"})") ==
        R"(policy.json:1: "host_paths": expected a list of strings, got string)");
  CHECK(PolicyError(R"({"version": 1, "host_paths": ["srv/../x"]})") ==
        R"(policy.json:1: "host_paths[0]": "srv/../x" is not a clean absolute path)");
  CHECK(
      PolicyError(R"({"version": 1, "helixvol": {"max_size": "lots"}})") ==
      R"(policy.json:1: "helixvol.max_size": size "lots" is not a size (examples: 512M, 20G, 1T))");
  CHECK(
      PolicyError(R"({"version": 1, "ordinary": {"device_cgroup_rules": ["a"]}})") ==
      R"(policy.json:1: "ordinary.device_cgroup_rules[0]": "a" is not a device cgroup rule ("a *:* rwm"))");
  CHECK(PolicyError(R"({"version": 1, "min_api_version": "v1"})") ==
        R"(policy.json:1: "min_api_version": "v1" is not an API version ("1.40"))");
}

TEST_CASE("a number at the end of a line is reported on its own line", "[authz]") {
  CHECK(PolicyError("{\"version\": 1,\n\"privileged\": {\"limits\": {\"memory\": \"1G\",\n"
                    "\"cpus\": -1\n}}}") ==
        R"(policy.json:3: "privileged.limits.cpus": expected a positive number of CPUs, got -1)");
}

TEST_CASE("a duplicate key is an error, not a silent override", "[authz]") {
  CHECK(
      PolicyError("{\"version\": 1,\n\"image_management\": false,\n\"image_management\": true}") ==
      R"(policy.json:3: "image_management": duplicate key)");
}

TEST_CASE("invalid JSON is reported with its line", "[authz]") {
  CHECK(PolicyError("{\"version\": 1,\n\"host_paths\": [,]}") ==
        "policy.json:2: invalid JSON: syntax error while parsing value - unexpected ','; "
        "expected '[', '{', or a literal");
}

TEST_CASE("privileged images need limits", "[authz]") {
  CHECK(
      PolicyError("{\"version\": 1, \"privileged\": {\"images\": [\"" + kId + "\"]}}") ==
      R"(policy.json:1: "privileged": needs "limits" (memory, cpus, pids) when "images" is not empty)");
  CHECK(PolicyError(R"({"version": 1, "privileged": {"limits": {"memory": "1G", "cpus": 2}}})") ==
        R"(policy.json:1: "privileged.limits": needs pids)");
}

TEST_CASE("capabilities and security options are normalised like dockerd does", "[authz]") {
  auto p =
      ParsePolicy(R"({"version": 1, "ordinary": {"capabilities": ["cap_net_admin", "sys_ptrace"],
      "security_options": ["seccomp:unconfined", "no-new-privileges", "no-new-privileges=0"]}})",
                  "p.json");
  REQUIRE(p.ok());
  CHECK((*p)->rules.ordinary.capabilities == std::vector<std::string>{"NET_ADMIN", "SYS_PTRACE"});
  CHECK((*p)->rules.ordinary.security_options ==
        std::vector<std::string>{"seccomp=unconfined", "no-new-privileges=true",
                                 "no-new-privileges=false"});
}

TEST_CASE("a user entry changes only the keys it names", "[authz]") {
  auto p = ParsePolicy(R"({"version": 1, "host_paths": ["/srv"],
      "privileged": {"exec": false, "logs": false},
      "users": {"alice": {"privileged": {"exec": true}}}})",
                       "p.json");
  REQUIRE(p.ok());
  const auto& alice = (*p)->RulesFor("alice");
  CHECK(alice.privileged.exec);
  CHECK_FALSE(alice.privileged.logs);
  CHECK(alice.host_paths == std::vector<std::string>{"/srv"});
  CHECK_FALSE((*p)->RulesFor("bob").privileged.exec);
}

TEST_CASE("a user entry cannot set the version or nest users", "[authz]") {
  std::string error = PolicyError("{\"version\": 1,\n\"users\": {\"alice\": {\n\"version\": 1}}}");
  CHECK(error.rfind(R"(policy.json:3: "users.alice.version": unknown key (valid: )", 0) == 0);
}

TEST_CASE("labels take \"*\" or a list of values, with keys exact", "[authz]") {
  auto p = ParsePolicy(R"({"version": 1, "privileged": {"labels": {"Helix.Kind": ["desktop"],
      "helix.session": "*"}}})",
                       "p.json");
  REQUIRE(p.ok());
  const auto& labels = (*p)->rules.privileged.labels;
  CHECK_FALSE(labels.count("helix.kind"));  // label keys are data: compared exactly
  REQUIRE(labels.count("Helix.Kind"));
  CHECK(labels.at("Helix.Kind").values == std::vector<std::string>{"desktop"});
  CHECK(labels.at("helix.session").any_value);
  CHECK(PolicyError(R"({"version": 1, "privileged": {"labels": {"a": []}}})") ==
        R"(policy.json:1: "privileged.labels.a": expected "*" or a non-empty list of values)");
}

TEST_CASE("LoadPolicy names the file it could not read", "[authz]") {
  helix::testing::TempDir dir;
  auto p = LoadPolicy(dir.path() + "/missing.json");
  REQUIRE_FALSE(p.ok());
  CHECK(p.error().message().rfind("read policy: ", 0) == 0);
}
