// Bypass class 1: request framing that dockerd and helixauthz read
// differently. Each request here is what the plugin is shown of a request
// verified on dockerd 20.10.24 to attach stdin through a form body
// (tests/e2e/helixauthz_bypass_test.sh sends the raw ones), next to what
// Docker's own clients send.
#include <catch2/catch.hpp>

#include "authz-plugin/request/request.h"
#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

Decision Run(const NormalizedRequest& req) {
  auto policy = TestPolicy();
  FakeEngineView engine = TestEngine();
  return Decide(*policy, req, engine);
}

// POST /containers/<name>/attach?stream=1&stdout=1 as the plugin sees it.
NormalizedRequest Attach(const std::string& name) {
  NormalizedRequest r = Req("POST", "/containers/" + name + "/attach");
  r.query = {{"stream", "1"}, {"stdout", "1"}};
  r.content_type = "text/plain";  // every CLI's hijacked attach
  return r;
}

const std::string kFramingBody =
    "a request body is not allowed (this endpoint reads none, and Go could read form fields "
    "from it) (rule framing)";

}  // namespace

TEST_CASE("a chunked form body hidden behind a second Content-Type is refused", "[authz]") {
  // Content-Type: application/x-www-form-urlencoded, then text/plain;
  // chunked "stdin=1": dockerd shows the last type and no length at all.
  NormalizedRequest r = Attach("desktop-1");
  r.content_length = std::nullopt;
  Decision d = Run(r);
  CHECK(d.message ==
        "helixauthz: POST /containers/desktop-1/attach: Content-Length is missing: a chunked "
        "body, which the engine does not show to plugins, could carry form fields (send "
        "\"Content-Length: 0\") (rule framing)");
  r.path = "/containers/web/attach";  // the same framing on an ordinary container
  CHECK(Run(r).rule == "framing");
}

TEST_CASE("a body of known length on an endpoint that reads none is refused", "[authz]") {
  // Content-Type: form, then application/json; Content-Length: 7: not
  // forwarded (the first type is not JSON), but its length shows.
  NormalizedRequest r = Attach("desktop-1");
  r.content_length = 7;
  r.body_declared = true;
  r.content_type = "application/json";
  CHECK(Run(r).message == "helixauthz: POST /containers/desktop-1/attach: " + kFramingBody);
  NormalizedRequest get = Req("GET", "/containers/web/logs");
  get.content_length = 3;
  get.body_declared = true;
  CHECK(Run(get).rule == "framing");
}

TEST_CASE("what Docker's clients send on bodiless requests is allowed", "[authz]") {
  CHECK(Run(Attach("web")).allow);                         // hijacked attach: text/plain, length 0
  CHECK(Run(Attach("desktop-1")).allow);                   // logs only: no stdin
  CHECK(Run(Req("POST", "/containers/web/start")).allow);  // CLI 28: length 0, no type
  NormalizedRequest cli20 = Req("POST", "/containers/web/start");
  cli20.content_type = "text/plain";  // CLI 20.10
  CHECK(Run(cli20).allow);
  CHECK(Run(Req("GET", "/containers/json")).allow);  // GET: no length at all
  NormalizedRequest odd = Req("POST", "/containers/web/stop");
  odd.content_type = "application/octet-stream";
  CHECK(Run(odd).message ==
        "helixauthz: POST /containers/web/stop: Content-Type \"application/octet-stream\" is "
        "not allowed without a body (none, text/plain or application/json) (rule framing)");
}

TEST_CASE("stdin is judged at its worst value: any true value of it", "[authz]") {
  NormalizedRequest r = Attach("desktop-1");
  r.query.insert({"stdin", "0"});
  r.query.insert({"stdin", "1"});
  Decision d = Run(r);
  CHECK(d.rule == "containers.attach");
  CHECK(d.message.find("attaching stdin to container \"desktop-1\" is not allowed") !=
        std::string::npos);
  r = Attach("desktop-1");
  r.query.insert({"stdin", " TRUE "});
  CHECK(Run(r).rule == "containers.attach");
}

TEST_CASE("a JSON endpoint takes its body as application/json only", "[authz]") {
  NormalizedRequest r = Req("POST", "/containers/create", OrdinaryCreate());
  r.content_type = "text/plain";
  CHECK(Run(r).message ==
        "helixauthz: POST /containers/create: Content-Type \"text/plain\" is not allowed: the "
        "body must be application/json (rule framing)");
  NormalizedRequest hidden = Req("POST", "/exec/abc/start");
  hidden.content_length = 29;
  hidden.body_declared = true;  // declared, not forwarded
  CHECK(Run(hidden).rule == "body");
  CHECK(Run(Req("POST", "/exec/abc/start", json{{"Detach", false}, {"Tty", false}})).allow);
}

TEST_CASE("an archive upload streams its tar chunked, as docker cp does", "[authz]") {
  NormalizedRequest upload = Req("PUT", "/containers/web/archive");
  upload.query = {{"path", "/tmp"}};
  upload.content_type = "text/plain";
  upload.content_length = std::nullopt;
  CHECK(Run(upload).allow);
  upload.path = "/containers/desktop-1/archive";
  CHECK(Run(upload).rule == "containers.files");
}

TEST_CASE("a Content-Type Go would read differently is refused when the request is read",
          "[authz]") {
  AuthzRequest r;
  r.method = "POST";
  r.uri = "/v1.41/containers/desktop-1/attach?stream=1";
  r.headers = {{"Content-Type",
                "\xc2\xa0"
                "application/x-www-form-urlencoded"},
               {"Content-Length", "7"}};
  auto n = Normalize(r);
  REQUIRE_FALSE(n.ok());
  CHECK(n.error().message() ==
        "RequestHeaders[\"Content-Type\"]: \"\\u00a0application/x-www-form-urlencoded\" is "
        "refused: only printable ASCII is read the same way by Go");
  r.headers = {{"Content-Type", " Multipart/Form-Data ; boundary=x"}};
  REQUIRE_FALSE(Normalize(r).ok());
  r.headers = {{"Content-Type", "text/plain"}, {"Content-Length", "0"}};
  auto ok = Normalize(r);
  REQUIRE(ok.ok());
  CHECK(ok->content_type == "text/plain");
  CHECK(ok->content_length == 0u);
  CHECK_FALSE(ok->body_declared);
}
