// Bypass class 2: a reference judged against one container and acted on
// against another (look-alike names, ID prefixes, stretched lookups), and
// containers that become part of a desktop by sharing its namespaces.
#include <catch2/catch.hpp>

#include "authz-plugin/engine/request_lookups.h"
#include "fakes/authz_fixtures.h"

using namespace helix::authz;
using namespace helix::authz::testing;
using nlohmann::json;

namespace {

Decision Run(const NormalizedRequest& req, FakeEngineView& engine) {
  auto policy = TestPolicy();
  return Decide(*policy, req, engine);
}

Decision Run(const NormalizedRequest& req) {
  FakeEngineView engine = TestEngine();
  return Run(req, engine);
}

NormalizedRequest Named(NormalizedRequest r, const std::string& name) {
  r.query.insert({"name", name});
  return r;
}

const json kExec = {{"Cmd", {"sh"}}};

}  // namespace

TEST_CASE("names dockerd could read as an ID prefix are refused on create and rename", "[authz]") {
  Decision d = Run(Named(Req("POST", "/containers/create", OrdinaryCreate()), "1111aaaa"));
  CHECK(d.message ==
        "helixauthz: name: container name \"1111aaaa\" is not allowed: dockerd could read it as "
        "a container ID prefix (rule containers.names)");
  CHECK(Run(Named(Req("POST", "/containers/create", OrdinaryCreate()), "cafe")).rule ==
        "containers.names");
  CHECK(Run(Named(Req("POST", "/containers/web/rename"), "/1111")).rule == "containers.names");
  // Every value of a repeated parameter is judged.
  NormalizedRequest twice = Named(Req("POST", "/containers/create", OrdinaryCreate()), "web-2");
  twice.query.insert({"name", "1111"});
  CHECK(Run(twice).rule == "containers.names");
  // Harmless twins: names with a letter past f, upper case, or a separator.
  for (const char* name : {"web-2", "cafe-1", "CAFE", "g1111", "deadbeefx"}) {
    INFO(name);
    CHECK(Run(Named(Req("POST", "/containers/create", OrdinaryCreate()), name)).allow);
  }
  CHECK(Run(Named(Req("POST", "/containers/web/rename"), "web-3")).allow);
}

TEST_CASE("a container already named like an ID prefix is an ambiguous reference", "[authz]") {
  FakeEngineView engine = TestEngine();
  engine.AddContainer(std::string(64, 'c'), "1111", {{"Privileged", false}});
  Decision d = Run(Req("POST", "/containers/1111/exec", kExec), engine);
  CHECK(d.message ==
        "helixauthz: POST /containers/1111/exec: container name \"1111\" is ambiguous: it could "
        "also be read as an ID prefix; use the full ID (rule resolve)");
  CHECK(Run(Req("POST", "/containers/" + std::string(64, 'c') + "/exec", kExec), engine).allow);
}

TEST_CASE("containers a create binds to are named exactly: full ID or name, no prefix", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["volumesfrom"] = {"2222:ro"};
  CHECK(Run(Req("POST", "/containers/create", body)).message ==
        "helixauthz: HostConfig.VolumesFrom[0]: ID prefix \"2222\" is not allowed here: use the "
        "container's full ID or its name (rule resolve)");
  body["hostconfig"]["volumesfrom"] = {"web:ro", kOrdinaryId};
  CHECK(Run(Req("POST", "/containers/create", body)).allow);
  body = OrdinaryCreate();
  body["hostconfig"]["links"] = {"2222:db"};
  CHECK(Run(Req("POST", "/containers/create", body)).rule == "resolve");
  body["hostconfig"]["links"] = {"web:db", "/web:/x/db2"};
  CHECK(Run(Req("POST", "/containers/create", body)).allow);
  // Exec, attach and the like act once, now: a short ID is fine there.
  CHECK(Run(Req("POST", "/containers/2222/exec", kExec)).allow);
}

TEST_CASE("legacy links to a protected container are refused", "[authz]") {
  json body = OrdinaryCreate();
  body["hostconfig"]["links"] = {"desktop-1:db"};
  CHECK(Run(Req("POST", "/containers/create", body)).message ==
        "helixauthz: HostConfig.Links[0]: link to container \"desktop-1\" is not allowed: it is "
        "privileged (HostConfig.CapAdd[0] \"ALL\") (rule links)");
}

TEST_CASE("one decision makes a bounded number of engine lookups", "[authz]") {
  // A create that names 40 containers would stretch the time between its
  // lookups and dockerd's own; it is refused at the 33rd lookup.
  FakeEngineView engine = TestEngine();
  json from = json::array();
  for (int i = 0; i < 40; ++i) {
    const std::string name = "from-" + std::to_string(i);
    engine.AddContainer(std::string(62, 'f') + std::to_string(10 + i), name);
    from.push_back(name);
  }
  json body = OrdinaryCreate();
  body["hostconfig"]["volumesfrom"] = from;
  Decision d = Run(Req("POST", "/containers/create", body), engine);
  CHECK(d.message ==
        "helixauthz: HostConfig.VolumesFrom[32]: container \"from-32\" cannot be resolved: the "
        "request needs more than 32 engine lookups (at container \"from-32\"); split it into "
        "smaller requests (rule resolve)");
  CHECK(engine.lookups.size() == static_cast<size_t>(RequestLookups::kMaxLookups));
}

TEST_CASE("a repeated lookup within one decision is answered from the cache", "[authz]") {
  FakeEngineView engine = TestEngine();
  json body = OrdinaryCreate();
  body["hostconfig"]["volumesfrom"] = {"web", "web:ro"};
  body["hostconfig"]["links"] = {"web:a", "web:b"};
  CHECK(Run(Req("POST", "/containers/create", body), engine).allow);
  CHECK(std::count(engine.lookups.begin(), engine.lookups.end(), "container web") == 1);
}

TEST_CASE("a container in a desktop's namespaces is protected like the desktop", "[authz]") {
  FakeEngineView engine = TestEngine();
  // Created before helixauthz was in force, or through a race: it joined
  // desktop-1's network namespace (dockerd keeps the full ID).
  engine.AddContainer(std::string(64, '3'), "sidecar",
                      {{"NetworkMode", "container:" + kDesktopId}});
  Decision exec = Run(Req("POST", "/containers/sidecar/exec", kExec), engine);
  CHECK(exec.message ==
        "helixauthz: POST /containers/sidecar/exec: exec into container \"sidecar\" is not "
        "allowed: it shares the network namespace of container \"desktop-1\", and it is "
        "privileged (HostConfig.CapAdd[0] \"ALL\") (rule privileged.exec)");
  CHECK(Run(Req("POST", "/containers/sidecar/start"), engine).message ==
        "helixauthz: POST /containers/sidecar/start: starting container \"sidecar\" is not "
        "allowed: it shares the network namespace of container \"desktop-1\", and it is "
        "privileged (HostConfig.CapAdd[0] \"ALL\") (rule containers.start)");
  CHECK(Run(Req("POST", "/containers/sidecar/restart"), engine).rule == "containers.start");
  // Joining the sidecar is joining the desktop.
  json body = OrdinaryCreate();
  body["hostconfig"]["pidmode"] = "container:sidecar";
  CHECK(Run(Req("POST", "/containers/create", body), engine).rule == "namespaces");
  // The desktop itself still starts.
  CHECK(Run(Req("POST", "/containers/desktop-1/start"), engine).allow);
  // A container in an ordinary container's namespace is ordinary.
  engine.AddContainer(std::string(64, '4'), "web-side", {{"PidMode", "container:" + kOrdinaryId}});
  CHECK(Run(Req("POST", "/containers/web-side/exec", kExec), engine).allow);
  CHECK(Run(Req("POST", "/containers/web-side/start"), engine).allow);
}

TEST_CASE("a chain of shared namespaces is followed to a bound, then protected", "[authz]") {
  FakeEngineView engine = TestEngine();
  std::string prev = kOrdinaryId;
  for (int i = 0; i < 5; ++i) {
    const std::string id = std::string(63, '5') + std::to_string(i);
    engine.AddContainer(id, "chain-" + std::to_string(i), {{"NetworkMode", "container:" + prev}});
    prev = id;
  }
  Decision d = Run(Req("POST", "/containers/chain-4/exec", kExec), engine);
  CHECK_FALSE(d.allow);
  CHECK(d.message.find("shared along too long a chain") != std::string::npos);
  CHECK(Run(Req("POST", "/containers/chain-1/exec", kExec), engine).allow);
}
