#include <catch2/catch.hpp>

#include "authz-plugin/decide/request_fields.h"
#include "authz-plugin/docker/docker_values.h"

using namespace helix::authz;

TEST_CASE("capability names are normalised like dockerd's", "[authz]") {
  CHECK(NormalizeCapability("sys_admin") == "SYS_ADMIN");
  CHECK(NormalizeCapability("CAP_SYS_ADMIN") == "SYS_ADMIN");
  CHECK(NormalizeCapability("Cap_Sys_Admin") == "SYS_ADMIN");
  CHECK(NormalizeCapability("all") == "ALL");
}

TEST_CASE("security options are read like dockerd's parser", "[authz]") {
  CHECK(NormalizeSecurityOpt("seccomp=unconfined") == "seccomp=unconfined");
  CHECK(NormalizeSecurityOpt("seccomp:unconfined") == "seccomp=unconfined");
  CHECK(NormalizeSecurityOpt("no-new-privileges") == "no-new-privileges=true");
  CHECK(NormalizeSecurityOpt("no-new-privileges:T") == "no-new-privileges=true");
  CHECK(NormalizeSecurityOpt("no-new-privileges=0") == "no-new-privileges=false");
  CHECK(NormalizeSecurityOpt("disable") == "label=disable");
  CHECK(NormalizeSecurityOpt("label=user:u") == "label=user:u");
  CHECK_FALSE(NormalizeSecurityOpt("no-new-privileges=maybe"));
  CHECK_FALSE(NormalizeSecurityOpt("unconfined"));
}

TEST_CASE("paths are cleaned like Go's filepath.Clean", "[authz]") {
  CHECK(CleanPath("/a//b/../c/") == "/a/c");
  CHECK(CleanPath("/../..") == "/");
  CHECK(CleanPath("/var/lib/docker/.") == "/var/lib/docker");
  CHECK(PathWithin("/srv/a", "/srv"));
  CHECK(PathWithin("/srv", "/srv"));
  CHECK_FALSE(PathWithin("/srv2", "/srv"));
  CHECK(PathWithin("/anything", "/"));
}

TEST_CASE("glob patterns match with '*' only", "[authz]") {
  CHECK(GlobMatch("helixvol-preload-*", "helixvol-preload-7"));
  CHECK(GlobMatch("helixvol-preload-*", "helixvol-preload-"));
  CHECK_FALSE(GlobMatch("helixvol-preload-*", "helixvol-preload"));
  CHECK(GlobMatch("a*b*c", "axxbyyc"));
  CHECK_FALSE(GlobMatch("a?c", "abc"));
  CHECK(GlobMatch("net.*", "net.ipv4.ip_forward"));
}

TEST_CASE("query booleans follow dockerd's BoolValue", "[authz]") {
  std::multimap<std::string, std::string> q = {{"a", "1"}, {"b", " No "}, {"c", "none"},
                                               {"d", ""},  {"e", "yes"},  {"f", "x"}};
  CHECK(QueryBool(q, "a"));
  CHECK_FALSE(QueryBool(q, "b"));
  CHECK_FALSE(QueryBool(q, "c"));
  CHECK_FALSE(QueryBool(q, "d"));
  CHECK(QueryBool(q, "e"));
  CHECK(QueryBool(q, "f"));
  CHECK_FALSE(QueryBool(q, "missing"));
}

TEST_CASE("API versions compare numerically", "[authz]") {
  CHECK(CompareApiVersions("1.9", "1.40") == -1);
  CHECK(CompareApiVersions("1.41", "1.40") == 1);
  CHECK(CompareApiVersions("1.40", "1.40") == 0);
  CHECK_FALSE(CompareApiVersions("1.x", "1.40"));
  CHECK_FALSE(CompareApiVersions("140", "1.40"));
}

TEST_CASE("image IDs are sha256 with 64 lower-case hex digits", "[authz]") {
  CHECK(IsImageId("sha256:" + std::string(64, 'a')));
  CHECK_FALSE(IsImageId("sha256:" + std::string(64, 'A')));
  CHECK_FALSE(IsImageId("sha256:" + std::string(63, 'a')));
  CHECK_FALSE(IsImageId(std::string(64, 'a')));
}

TEST_CASE("struct fields are found case-insensitively, as Go's decoder finds them", "[authz]") {
  const auto body = nlohmann::json::parse(R"({"HostConfig": {"privileged": true}, "x": null})");
  REQUIRE(Member(body, "hostconfig") != nullptr);
  CHECK(*Member(*Member(body, "hostconfig"), "privileged") == true);
  CHECK(Member(body, "x") == nullptr);  // null is Go's zero value
  CHECK(Member(body, "labels") == nullptr);
  CHECK(Member(nlohmann::json::array(), "hostconfig") == nullptr);
}

TEST_CASE("map fields keep their keys exact", "[authz]") {
  const auto body = nlohmann::json::parse(R"({"labels": {"HELIX.SESSION": "s1"}})");
  auto labels = StringMapField(body, "labels", "Labels");
  REQUIRE(labels.ok());
  CHECK(labels->count("HELIX.SESSION") == 1);
  CHECK(labels->count("helix.session") == 0);
}
