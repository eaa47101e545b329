#include <catch2/catch.hpp>

#include "authz-plugin/decide/routes.h"
#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;

namespace {

Decision Run(const NormalizedRequest& r, const std::string& user = "") {
  auto policy = TestPolicy();
  FakeEngineView engine = TestEngine();
  NormalizedRequest req = r;
  req.user = user;
  return Decide(*policy, req, engine);
}

}  // namespace

TEST_CASE("an endpoint not in the route table is refused with its method and path", "[authz]") {
  Decision d = Run(Req("POST", "/containers/abc/frobnicate"));
  CHECK_FALSE(d.allow);
  CHECK(d.rule == "routes");
  CHECK(d.message ==
        "helixauthz: POST /containers/abc/frobnicate: endpoint is not in the route table "
        "(rule routes)");
  // dockerd routes HEAD only where it registers it.
  CHECK_FALSE(Run(Req("HEAD", "/version")).allow);
  CHECK_FALSE(Run(Req("OPTIONS", "/containers/json")).allow);
}

TEST_CASE("reads are allowed route by route", "[authz]") {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/_ping"},
           {"HEAD", "/_ping"},
           {"GET", "/version"},
           {"GET", "/info"},
           {"GET", "/events"},
           {"GET", "/system/df"},
           {"GET", "/containers/json"},
           {"GET", "/containers/desktop-1/json"},
           {"GET", "/containers/desktop-1/top"},
           {"GET", "/containers/desktop-1/stats"},
           {"GET", "/images/json"},
           {"GET", "/images/helix-e2e/dind/json"},
           {"GET", "/images/localhost:5000/a/b:1/history"},
           {"GET", "/volumes"},
           {"GET", "/volumes/s1"},
           {"GET", "/networks"},
           {"GET", "/networks/bridge"},
           {"GET", "/plugins"},
           {"GET", "/plugins/helixvol:latest/json"},
           {"GET", "/exec/abc/json"}}) {
    INFO(method << " " << path);
    Decision d = Run(Req(method, path));
    CHECK(d.allow);
  }
}

TEST_CASE("plugin management is refused: disabling helixauthz would turn authorization off",
          "[authz]") {
  Decision d = Run(Req("POST", "/plugins/helixauthz:latest/disable"));
  CHECK_FALSE(d.allow);
  CHECK(d.message ==
        "helixauthz: POST /plugins/helixauthz:latest/disable: endpoint is refused: plugin "
        "management could disable or replace helixauthz (rule plugins)");
  CHECK_FALSE(Run(Req("POST", "/plugins/pull")).allow);
  CHECK_FALSE(Run(Req("GET", "/plugins/privileges")).allow);
  CHECK_FALSE(Run(Req("DELETE", "/plugins/helixvol")).allow);
}

TEST_CASE("swarm, checkpoints, debug, session and grpc are refused", "[authz]") {
  CHECK(Run(Req("POST", "/swarm/init")).rule == "swarm");
  CHECK(Run(Req("GET", "/services")).rule == "swarm");
  CHECK(Run(Req("POST", "/secrets/create")).rule == "swarm");
  CHECK(Run(Req("POST", "/containers/x/checkpoints")).rule == "checkpoints");
  CHECK(Run(Req("GET", "/debug/pprof/heap")).rule == "debug");
  CHECK(Run(Req("POST", "/session")).rule == "build");
  CHECK(Run(Req("POST", "/grpc")).rule == "build");
}

TEST_CASE("volume removal and prune follow one rule: allowed, as container removal is", "[authz]") {
  // dockerd refuses both for a volume any container (running or stopped)
  // still references, so a session's data root is safe while its desktop
  // exists; once the desktop is removed, its volumes are ordinary garbage.
  Decision prune = Run(Req("POST", "/volumes/prune"));
  CHECK(prune.allow);
  CHECK(prune.rule == "volumes.remove");
  CHECK(Run(Req("DELETE", "/volumes/s1")).rule == "volumes.remove");
}

TEST_CASE("image management is refused by default and allowed for the admin user", "[authz]") {
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/build"},
                                                        {"POST", "/commit"},
                                                        {"POST", "/images/load"},
                                                        {"POST", "/images/create"},
                                                        {"POST", "/images/helix/desktop/tag"},
                                                        {"POST", "/images/helix/desktop/push"},
                                                        {"DELETE", "/images/helix/desktop"},
                                                        {"GET", "/images/get"}}) {
    INFO(method << " " << path);
    Decision d = Run(Req(method, path));
    CHECK_FALSE(d.allow);
    CHECK(d.message == "helixauthz: " + method + " " + path +
                           ": image management is not allowed for user \"\" (rule "
                           "image_management)");
    CHECK(Run(Req(method, path), "helix-admin").allow);
  }
}

TEST_CASE("an API version below the policy minimum is refused", "[authz]") {
  NormalizedRequest r = Req("GET", "/version");
  r.api_version = "1.39";
  Decision d = Run(r);
  CHECK_FALSE(d.allow);
  CHECK(d.message ==
        "helixauthz: GET /version: API version \"1.39\" is below the policy minimum \"1.40\" "
        "(rule min_api_version)");
  r.api_version = "1.9x";
  CHECK_FALSE(Run(r).allow);
  r.api_version = std::nullopt;  // dockerd's own version
  CHECK(Run(r).allow);
  r.api_version = "1.43";
  CHECK(Run(r).allow);
}

TEST_CASE("an endpoint that needs a body is refused without one", "[authz]") {
  Decision d = Run(Req("POST", "/containers/create"));
  CHECK_FALSE(d.allow);
  CHECK(d.message ==
        "helixauthz: POST /containers/create: request body is missing (the engine did not "
        "forward it: chunked, too large or not JSON) (rule body)");
  CHECK_FALSE(Run(Req("POST", "/volumes/create", nlohmann::json::array())).allow);
}

TEST_CASE("start refuses any body and checkpoint restores", "[authz]") {
  CHECK(Run(Req("POST", "/containers/web/start")).allow);
  Decision d = Run(Req("POST", "/containers/web/start", nlohmann::json::object()));
  CHECK(d.message ==
        "helixauthz: POST /containers/web/start: a request body is not allowed (this endpoint "
        "reads none, and Go could read form fields from it) (rule framing)");
  NormalizedRequest declared = Req("POST", "/containers/web/start");
  declared.body_declared = true;  // sent chunked: dockerd forwarded nothing
  CHECK_FALSE(Run(declared).allow);
  NormalizedRequest restore = Req("POST", "/containers/web/start");
  restore.query.insert({"checkpoint", "c1"});
  CHECK(Run(restore).rule == "checkpoints");
}

TEST_CASE("responses are always allowed", "[authz]") {
  auto policy = TestPolicy();
  CHECK(DecideResponse(*policy, Req("POST", "/containers/create")).allow);
}

TEST_CASE("route patterns match names with slashes the way dockerd's {name:.*} does", "[authz]") {
  std::map<std::string, std::string> params;
  CHECK(MatchRoute("/images/{name*}/json", "/images/helix-e2e/dind/json", &params));
  CHECK(params["name"] == "helix-e2e/dind");
  CHECK_FALSE(MatchRoute("/images/{name*}/json", "/images/json", &params));
  CHECK(MatchRoute("/containers/{name}/json", "/containers/abc/json", &params));
  CHECK(params["name"] == "abc");
  CHECK_FALSE(MatchRoute("/containers/{name}/json", "/containers/a/b/json", &params));
  CHECK(MatchRoute("/plugins/{rest*}", "/plugins/x/enable", &params));
}
