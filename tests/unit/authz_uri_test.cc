// The request target as dockerd routes it: NormalizeRequestUri() must give
// the policy the decoded, version-stripped path gorilla/mux matches, and
// refuse every target that could be read two ways.
#include "authz-plugin/request/request_uri.h"

#include <catch2/catch.hpp>

using namespace helix;
using namespace helix::authz;

namespace {

using Query = std::multimap<std::string, std::string>;

RequestTarget Target(std::string_view uri) {
  auto r = NormalizeRequestUri(uri);
  INFO(uri);
  REQUIRE(r.ok());
  return *r;
}

std::string ErrorOf(std::string_view uri) {
  auto r = NormalizeRequestUri(uri);
  INFO(uri);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  return r.error().message();
}

}  // namespace

TEST_CASE("a versioned target loses its prefix and keeps the version", "[authz]") {
  auto t = Target("/v1.41/containers/create");
  CHECK(t.path == "/containers/create");
  CHECK(t.api_version == "1.41");
  CHECK(t.query.empty());
}

TEST_CASE("an unversioned target has no version", "[authz]") {
  auto t = Target("/containers/abc/start");
  CHECK(t.path == "/containers/abc/start");
  CHECK(t.api_version == std::nullopt);
}

TEST_CASE("old and short version strings of the form N.N are accepted", "[authz]") {
  CHECK(Target("/v1.12/info").api_version == "1.12");
  CHECK(Target("/v1.0/info").api_version == "1.0");
  CHECK(Target("/v0.9/info").api_version == "0.9");
  CHECK(Target("/v10.100/info").api_version == "10.100");
}

TEST_CASE("versions that mux accepts but are not N.N are refused", "[authz]") {
  CHECK(ErrorOf("/v1/info") ==
        "RequestUri \"/v1/info\": API version \"1\" is not of the form \"1.41\"");
  CHECK(ErrorOf("/v1.41.0/info") ==
        "RequestUri \"/v1.41.0/info\": API version \"1.41.0\" is not of the form \"1.41\"");
  CHECK(ErrorOf("/v01.41/info") ==
        "RequestUri \"/v01.41/info\": API version \"01.41\" is not of the form \"1.41\"");
  CHECK(ErrorOf("/v1..41/info") ==
        "RequestUri \"/v1..41/info\": API version \"1..41\" is not of the form \"1.41\"");
  CHECK(ErrorOf("/v.41/info") ==
        "RequestUri \"/v.41/info\": API version \".41\" is not of the form \"1.41\"");
  CHECK(ErrorOf("/v1.12345/info") ==
        "RequestUri \"/v1.12345/info\": API version \"1.12345\" is not of the form \"1.41\"");
}

TEST_CASE("a segment that only looks like a version further down is a path segment", "[authz]") {
  CHECK(Target("/containers/v1.41/json").path == "/containers/v1.41/json");
  CHECK(Target("/volumes/v1").path == "/volumes/v1");
  CHECK(Target("/V1.41/info").path == "/V1.41/info");  // mux matches "v" case-sensitively
}

TEST_CASE("a second version prefix is refused", "[authz]") {
  CHECK(ErrorOf("/v1.41/v1.40/containers/json") ==
        "RequestUri \"/v1.41/v1.40/containers/json\": path has a second API version prefix "
        "\"v1.40\"");
}

TEST_CASE("a target that names no endpoint is refused", "[authz]") {
  CHECK(ErrorOf("/") == "RequestUri \"/\": path names no endpoint");
  CHECK(ErrorOf("/v1.41") == "RequestUri \"/v1.41\": path names no endpoint");
  CHECK(ErrorOf("/v1.41/") == "RequestUri \"/v1.41/\": path ends with \"/\"");
  CHECK(ErrorOf("") == "RequestUri \"\": does not start with \"/\" or \"http://\"");
  CHECK(ErrorOf("*") == "RequestUri \"*\": does not start with \"/\" or \"http://\"");
  CHECK(ErrorOf("containers/json") ==
        "RequestUri \"containers/json\": does not start with \"/\" or \"http://\"");
}

TEST_CASE("absolute form with http or https reads like origin form", "[authz]") {
  auto t = Target("http://docker/v1.41/containers/json?all=1");
  CHECK(t.path == "/containers/json");
  CHECK(t.api_version == "1.41");
  CHECK(t.query == Query{{"all", "1"}});
  CHECK(Target("HTTPS://localhost:2376/info").path == "/info");
  CHECK(Target("http:///info").path == "/info");
}

TEST_CASE("absolute form with another scheme, user information or no path is refused", "[authz]") {
  CHECK(ErrorOf("ftp://docker/info") ==
        "RequestUri \"ftp://docker/info\": scheme \"ftp\" is not http or https");
  CHECK(ErrorOf("unix://docker/info") ==
        "RequestUri \"unix://docker/info\": scheme \"unix\" is not http or https");
  CHECK(ErrorOf("http://u:p@docker/info") ==
        "RequestUri \"http://u:p@docker/info\": authority \"u:p@docker\" carries user "
        "information");
  CHECK(ErrorOf("http://docker") == "RequestUri \"http://docker\": absolute form has no path");
  CHECK(ErrorOf("http://docker?x=1") ==
        "RequestUri \"http://docker?x=1\": absolute form has no path");
  CHECK(ErrorOf("1http://docker/info") ==
        "RequestUri \"1http://docker/info\": does not start with \"/\" or \"http://\"");
}

TEST_CASE("percent-escapes in the path are decoded as Go decodes r.URL.Path", "[authz]") {
  CHECK(Target("/containers/my%2Dapp/json").path == "/containers/my-app/json");
  // mux matches the decoded path, so an encoded "v" still makes a version.
  auto t = Target("/%761.41/containers/json");
  CHECK(t.path == "/containers/json");
  CHECK(t.api_version == "1.41");
  CHECK(Target("/%63ontainers/json").path == "/containers/json");
  CHECK(Target("/images/a+b/json").path == "/images/a+b/json");  // "+" is not a space in paths
  CHECK(Target("/volumes/caf%C3%A9").path == "/volumes/caf\xc3\xa9");
}

TEST_CASE("encoded separators in the path are refused", "[authz]") {
  CHECK(ErrorOf("/containers/a%2Fb/json") ==
        "RequestUri \"/containers/a%2Fb/json\": path has an encoded \"/\" (\"%2F\")");
  CHECK(ErrorOf("/containers/a%2fb/json") ==
        "RequestUri \"/containers/a%2fb/json\": path has an encoded \"/\" (\"%2f\")");
  CHECK(ErrorOf("/containers/a%3Fb/json") ==
        "RequestUri \"/containers/a%3Fb/json\": path has an encoded \"?\" (\"%3F\")");
  CHECK(ErrorOf("/containers/a%23b/json") ==
        "RequestUri \"/containers/a%23b/json\": path has an encoded \"#\" (\"%23\")");
  CHECK(ErrorOf("/containers/a%252Fb/json") ==
        "RequestUri \"/containers/a%252Fb/json\": path has an encoded \"%\" (\"%25\")");
}

TEST_CASE("invalid percent-escapes are refused", "[authz]") {
  CHECK(ErrorOf("/containers/a%zzb/json") ==
        "RequestUri \"/containers/a%zzb/json\": path has an invalid percent-escape \"%zz\"");
  CHECK(ErrorOf("/containers/json%") ==
        "RequestUri \"/containers/json%\": path has an invalid percent-escape \"%\"");
  CHECK(ErrorOf("/containers/json%4") ==
        "RequestUri \"/containers/json%4\": path has an invalid percent-escape \"%4\"");
  CHECK(ErrorOf("/containers/json?all=%g1") ==
        "RequestUri \"/containers/json?all=%g1\": query has an invalid percent-escape \"%g1\"");
}

TEST_CASE("paths that path.Clean would change are refused", "[authz]") {
  CHECK(ErrorOf("/containers/./abc/json") ==
        "RequestUri \"/containers/./abc/json\": path has a \".\" segment");
  CHECK(ErrorOf("/v1.41/containers/../images/json") ==
        "RequestUri \"/v1.41/containers/../images/json\": path has a \"..\" segment");
  CHECK(ErrorOf("/containers/%2e%2e/images/json") ==
        "RequestUri \"/containers/%2e%2e/images/json\": path has a \"..\" segment");
  CHECK(ErrorOf("/containers//json") ==
        "RequestUri \"/containers//json\": path has an empty segment (\"//\")");
  CHECK(ErrorOf("//containers/json") ==
        "RequestUri \"//containers/json\": path has an empty segment (\"//\")");
  CHECK(ErrorOf("http://docker//info") ==
        "RequestUri \"http://docker//info\": path has an empty segment (\"//\")");
  CHECK(ErrorOf("/containers/json/") == "RequestUri \"/containers/json/\": path ends with \"/\"");
  CHECK(Target("/containers/a..b/json").path == "/containers/a..b/json");
}

TEST_CASE("control characters, raw non-ASCII bytes and fragments are refused", "[authz]") {
  CHECK(ErrorOf(std::string_view("/info\0x", 7)) ==
        "RequestUri \"/info\\u0000x\": has byte 0x00 (only printable ASCII is allowed)");
  CHECK(ErrorOf("/in fo") ==
        "RequestUri \"/in fo\": has byte 0x20 (only printable ASCII is allowed)");
  CHECK(ErrorOf("/volumes/caf\xc3\xa9") ==
        "RequestUri \"/volumes/caf\\u00e9\": has byte 0xc3 (only printable ASCII is allowed)");
  CHECK(ErrorOf("/volumes/\xff") ==
        "RequestUri \"/volumes/\\xff\": has byte 0xff (only printable ASCII is allowed)");
  CHECK(ErrorOf("/containers/json#frag") ==
        "RequestUri \"/containers/json#frag\": has a fragment (\"#\")");
  CHECK(ErrorOf("/containers/abc%00/json") ==
        "RequestUri \"/containers/abc%00/json\": path has a control character (0x00) after "
        "percent-decoding");
  CHECK(ErrorOf("/containers/abc%0a/json") ==
        "RequestUri \"/containers/abc%0a/json\": path has a control character (0x0a) after "
        "percent-decoding");
  CHECK(ErrorOf("/volumes/%ff") ==
        "RequestUri \"/volumes/%ff\": path is not valid UTF-8 after percent-decoding");
}

TEST_CASE("the query is read as Go's url.ParseQuery reads it", "[authz]") {
  auto t = Target("/v1.41/images/create?fromImage=busybox&tag=latest");
  CHECK(t.query == Query{{"fromImage", "busybox"}, {"tag", "latest"}});
  CHECK(Target("/info?a=x+y%2Bz").query == Query{{"a", "x y+z"}});
  CHECK(Target("/info?a&b=").query == Query{{"a", ""}, {"b", ""}});
  CHECK(Target("/info?&&a=1&&").query == Query{{"a", "1"}});
  CHECK(Target("/info?=v").query == Query{{"", "v"}});
  CHECK(Target("/info?a=b=c").query == Query{{"a", "b=c"}});
  CHECK(Target("/info?a%3Db=c").query == Query{{"a=b", "c"}});
  CHECK(Target("/info?").query.empty());
  CHECK(Target("/info?q=a?b").query == Query{{"q", "a?b"}});
}

TEST_CASE("a repeated query parameter keeps every value in order", "[authz]") {
  auto t = Target("/containers/json?filters=3&all=1&filters=1&filters=2");
  auto [first, last] = t.query.equal_range("filters");
  std::vector<std::string> values;
  for (auto it = first; it != last; ++it) values.push_back(it->second);
  CHECK(values == std::vector<std::string>{"3", "1", "2"});
  CHECK(t.query.count("all") == 1);
}

TEST_CASE("a semicolon in the query is refused", "[authz]") {
  CHECK(ErrorOf("/containers/json?all=1;size=1") ==
        "RequestUri \"/containers/json?all=1;size=1\": query has a \";\" (Go before 1.17 splits "
        "pairs on it, later versions refuse it)");
  // An encoded ";" is a plain character: no reader splits on it.
  CHECK(Target("/containers/json?a=%3B").query == Query{{"a", ";"}});
}

TEST_CASE("query text that is not UTF-8 after decoding is refused", "[authz]") {
  CHECK(ErrorOf("/info?a=%ff") ==
        "RequestUri \"/info?a=%ff\": query is not valid UTF-8 after percent-decoding");
  CHECK(Target("/info?a=%00").query == Query{{"a", std::string(1, '\0')}});
}
