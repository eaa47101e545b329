// ParseAuthzRequest() and Normalize(): the AuthZReq document as dockerd
// sends it, and the request the policy decides on.
#include "authz-plugin/request/request.h"

#include <catch2/catch.hpp>

#include "authz-plugin/request/base64.h"

using namespace helix;
using namespace helix::authz;
using nlohmann::json;

namespace {

// What dockerd 20.10 POSTs for `docker run --privileged busybox` (abridged).
constexpr const char* kCreateDocument = R"doc({
  "User": "alice",
  "UserAuthNMethod": "TLS",
  "RequestMethod": "POST",
  "RequestUri": "/v1.41/containers/create?name=web",
  "RequestBody": "eyJJbWFnZSI6ImJ1c3lib3giLCJIb3N0Q29uZmlnIjp7IlByaXZpbGVnZWQiOnRydWV9fQ==",
  "RequestHeaders": {"Content-Type": "application/json", "Content-Length": "52",
                     "User-Agent": "Docker-Client/20.10.24 (linux)"}
})doc";

std::string ParseError(const json& document) {
  auto r = ParseAuthzRequest(document.dump());
  INFO(document.dump());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  return r.error().message();
}

json Minimal() { return {{"RequestMethod", "GET"}, {"RequestUri", "/_ping"}}; }

AuthzRequest Get(std::string uri) {
  AuthzRequest r;
  r.method = "GET";
  r.uri = std::move(uri);
  return r;
}

AuthzRequest Post(std::string uri, std::string body) {
  AuthzRequest r;
  r.method = "POST";
  r.uri = std::move(uri);
  r.headers = {{"Content-Type", "application/json"},
               {"Content-Length", std::to_string(body.size())}};
  r.body = std::move(body);
  return r;
}

std::string NormalizeError(const AuthzRequest& request) {
  auto r = Normalize(request);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  return r.error().message();
}

}  // namespace

TEST_CASE("an AuthZReq document decodes field by field", "[authz]") {
  auto r = ParseAuthzRequest(kCreateDocument);
  REQUIRE(r.ok());
  CHECK(r->user == "alice");
  CHECK(r->user_authn_method == "TLS");
  CHECK(r->method == "POST");
  CHECK(r->uri == "/v1.41/containers/create?name=web");
  CHECK(r->body == R"({"Image":"busybox","HostConfig":{"Privileged":true}})");
  CHECK(r->headers.at("Content-Type") == "application/json");
  CHECK(r->headers.size() == 3);
  CHECK(r->response_status == 0);
  CHECK(r->response_body == std::nullopt);
}

TEST_CASE("an AuthZRes document adds the status and the response body", "[authz]") {
  json doc = Minimal();
  doc["ResponseStatusCode"] = 201;
  doc["ResponseBody"] = "eyJJZCI6ImFiYyJ9";
  doc["ResponseHeaders"] = {{"Content-Type", "application/json"}};
  auto r = ParseAuthzRequest(doc.dump());
  REQUIRE(r.ok());
  CHECK(r->response_status == 201);
  CHECK(r->response_body == R"({"Id":"abc"})");
}

TEST_CASE("omitted optional fields read as empty, null bodies as no body", "[authz]") {
  auto r = ParseAuthzRequest(Minimal().dump());
  REQUIRE(r.ok());
  CHECK(r->user.empty());
  CHECK(r->headers.empty());
  CHECK(r->body == std::nullopt);
  json doc = Minimal();
  doc["RequestBody"] = nullptr;
  doc["RequestHeaders"] = nullptr;
  doc["User"] = nullptr;
  r = ParseAuthzRequest(doc.dump());
  REQUIRE(r.ok());
  CHECK(r->body == std::nullopt);
  CHECK(r->user.empty());
}

TEST_CASE("the docs' spelling RequestURI is not the field dockerd sends", "[authz]") {
  CHECK(ParseError({{"RequestMethod", "GET"}, {"RequestURI", "/_ping"}}) == "RequestUri: missing");
}

TEST_CASE("missing method or URI is refused", "[authz]") {
  CHECK(ParseError({{"RequestUri", "/_ping"}}) == "RequestMethod: missing");
  CHECK(ParseError({{"RequestMethod", "GET"}}) == "RequestUri: missing");
  CHECK(ParseError({{"RequestMethod", ""}, {"RequestUri", "/_ping"}}) == "RequestMethod: missing");
  CHECK(ParseError({{"RequestMethod", "GET"}, {"RequestUri", nullptr}}) == "RequestUri: missing");
}

TEST_CASE("fields of the wrong type are refused by name", "[authz]") {
  json doc = Minimal();
  doc["User"] = 7;
  CHECK(ParseError(doc) == "User: expected a string, got number");
  doc = Minimal();
  doc["RequestUri"] = json::array();
  CHECK(ParseError(doc) == "RequestUri: expected a string, got array");
  doc = Minimal();
  doc["RequestBody"] = json::object();
  CHECK(ParseError(doc) == "RequestBody: expected a base64 string, got object");
  doc = Minimal();
  doc["RequestHeaders"] = "Content-Type: application/json";
  CHECK(ParseError(doc) == "RequestHeaders: expected an object, got string");
  doc = Minimal();
  doc["RequestHeaders"] = {{"Content-Length", 5}};
  CHECK(ParseError(doc) == "RequestHeaders[\"Content-Length\"]: expected a string, got number");
  doc = Minimal();
  doc["ResponseStatusCode"] = "200";
  CHECK(ParseError(doc) == "ResponseStatusCode: expected an integer, got string");
  doc["ResponseStatusCode"] = 1000;
  CHECK(ParseError(doc) == "ResponseStatusCode: 1000 is not an HTTP status code");
}

TEST_CASE("a document that is not a JSON object is refused", "[authz]") {
  auto r = ParseAuthzRequest("{\"RequestMethod\":");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "authorization request is not valid JSON");
  r = ParseAuthzRequest("[]");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "authorization request: expected an object, got array");
}

TEST_CASE("bad base64 in either body is refused by field", "[authz]") {
  for (const char* text : {"e30", "e30=e30=", "e3 0", "e3@=", "====", "e3==x===", "e31="}) {
    INFO(text);
    json doc = Minimal();
    doc["RequestBody"] = text;
    CHECK(ParseError(doc) == "RequestBody: invalid base64");
    doc = Minimal();
    doc["ResponseBody"] = text;
    CHECK(ParseError(doc) == "ResponseBody: invalid base64");
  }
}

TEST_CASE("base64 decodes every padding form and the whole alphabet", "[authz]") {
  CHECK(DecodeBase64("") == "");
  CHECK(DecodeBase64("YQ==") == "a");
  CHECK(DecodeBase64("YWI=") == "ab");
  CHECK(DecodeBase64("YWJj") == "abc");
  CHECK(DecodeBase64("+/+/") == "\xfb\xff\xbf");
  CHECK(DecodeBase64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") ==
        std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
                    "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f",
                    32));
  CHECK(DecodeBase64("YR==") == std::nullopt);  // non-zero bits after the last byte
  CHECK(DecodeBase64("YWJ=") == std::nullopt);
  CHECK(DecodeBase64("YWJj\n") == std::nullopt);
  CHECK(DecodeBase64("YW_j") == std::nullopt);  // URL alphabet
}

TEST_CASE("a container create request normalises end to end", "[authz]") {
  auto parsed = ParseAuthzRequest(kCreateDocument);
  REQUIRE(parsed.ok());
  auto n = Normalize(*parsed);
  REQUIRE(n.ok());
  CHECK(n->user == "alice");
  CHECK(n->method == "POST");
  CHECK(n->path == "/containers/create");
  CHECK(n->api_version == "1.41");
  CHECK(n->query == std::multimap<std::string, std::string>{{"name", "web"}});
  CHECK(n->body == json::parse(R"({"Image":"busybox","HostConfig":{"Privileged":true}})"));
  CHECK(n->body_declared);
  CHECK(n->content_length == 52u);
  CHECK(n->content_type == "application/json");
  CHECK(n->headers == parsed->headers);
}

TEST_CASE("methods dockerd does not route are refused", "[authz]") {
  for (const char* method : {"get", "Post", "PATCH", "CONNECT", "TRACE", "", "GET "}) {
    INFO(method);
    auto r = Get("/_ping");
    r.method = method;
    CHECK(NormalizeError(r) == std::string("RequestMethod ") + "\"" + method +
                                   "\" is not one of GET, HEAD, POST, PUT, DELETE, OPTIONS");
  }
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"}) {
    auto r = Get("/_ping");
    r.method = method;
    CHECK(Normalize(r).ok());
  }
}

TEST_CASE("URI errors reach the caller unchanged", "[authz]") {
  CHECK(NormalizeError(Get("/containers/a%2Fb/json")) ==
        "RequestUri \"/containers/a%2Fb/json\": path has an encoded \"/\" (\"%2F\")");
}

TEST_CASE("body errors name the body", "[authz]") {
  CHECK(NormalizeError(Post("/containers/create", R"({"Image":"a","image":"b"})")) ==
        "RequestBody: keys \"Image\" and \"image\" differ only in case (Go matches keys "
        "case-insensitively)");
}

TEST_CASE("no body, an empty body and a whitespace body all mean no body", "[authz]") {
  auto n = Normalize(Get("/containers/json"));
  REQUIRE(n.ok());
  CHECK(n->body == std::nullopt);
  CHECK_FALSE(n->body_declared);
  for (const char* text : {"", " \r\n\t"}) {
    auto r = Post("/containers/create", text);
    n = Normalize(r);
    REQUIRE(n.ok());
    CHECK(n->body == std::nullopt);
  }
}

TEST_CASE("a null body is a JSON null, not an absent body", "[authz]") {
  auto n = Normalize(Post("/containers/create", "null"));
  REQUIRE(n.ok());
  REQUIRE(n->body.has_value());
  CHECK(n->body->is_null());
}

TEST_CASE("a body is declared by Content-Length, Transfer-Encoding or a forwarded body",
          "[authz]") {
  auto r = Get("/containers/json");
  r.headers = {{"Content-Length", "12"}};
  CHECK(Normalize(r)->body_declared);
  r.headers = {{"Content-Length", "0"}};
  CHECK_FALSE(Normalize(r)->body_declared);
  r.headers = {{"Content-Length", "000"}};
  CHECK_FALSE(Normalize(r)->body_declared);
  r.headers = {{"Transfer-Encoding", "chunked"}};
  CHECK(Normalize(r)->body_declared);
  // Newer engines forward chunked bodies too, with no header left to say so.
  r = Post("/containers/create", "{}");
  r.headers.clear();
  CHECK(Normalize(r)->body_declared);
}

TEST_CASE("a Content-Length that is not a number is refused", "[authz]") {
  auto r = Get("/containers/json");
  for (const char* value : {"", "-1", "1e3", " 5", "0x10"}) {
    INFO(value);
    r.headers = {{"Content-Length", value}};
    CHECK(NormalizeError(r) ==
          std::string("RequestHeaders[\"Content-Length\"]: \"") + value + "\" is not a length");
  }
}

TEST_CASE("two spellings of one header are refused", "[authz]") {
  auto r = Get("/containers/json");
  r.headers = {{"Content-Length", "0"}, {"content-length", "10"}};
  CHECK(NormalizeError(r) ==
        "RequestHeaders: \"Content-Length\" and \"content-length\" name the same header");
}

TEST_CASE("form content types, whose bodies Go merges into the query, are refused", "[authz]") {
  auto r = Post("/images/create?fromImage=busybox", "");
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  CHECK(NormalizeError(r) ==
        "RequestHeaders[\"Content-Type\"]: \"application/x-www-form-urlencoded\" is refused: Go "
        "would read form fields from the body over the query");
  r.headers = {{"Content-Type", " Multipart/Form-Data ; boundary=x"}};
  CHECK(NormalizeError(r) ==
        "RequestHeaders[\"Content-Type\"]: \" Multipart/Form-Data ; boundary=x\" is refused: Go "
        "would read form fields from the body over the query");
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  CHECK(Normalize(r).ok());
  r.headers = {{"Content-Type", "application/x-tar"}};
  CHECK(Normalize(r).ok());
}
