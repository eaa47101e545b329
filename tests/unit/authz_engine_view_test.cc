#include <httplib.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <thread>

#include "authz-plugin/engine/engine_view.h"
#include "fakes/temp_dir.h"

using helix::ErrorKind;
using helix::authz::DockerEngineView;
using nlohmann::json;

namespace {

// A stand-in dockerd on a Unix socket that answers a few inspect paths and
// records what it was asked.
struct FakeDockerd {
  helix::testing::TempDir dir;
  std::string socket = dir.path() + "/docker.sock";
  httplib::Server server;
  std::thread thread;
  std::vector<std::string> paths;
  std::vector<std::string> filters;

  FakeDockerd() {
    server.set_address_family(AF_UNIX);
    server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      paths.push_back(req.path);
      if (req.path == "/v1.41/containers/desktop-1/json") {
        res.set_content(R"({"Id": "abc", "Name": "/desktop-1", "Image": "sha256:d",
            "HostConfig": {"Privileged": true, "CapAdd": ["ALL"]},
            "Mounts": [{"Type": "volume", "Name": "s1", "Destination": "/var/lib/docker",
                        "Driver": "helixvol", "RW": true}]})",
                        "application/json");
      } else if (req.path == "/v1.41/images/helix-e2e/dind/json") {
        res.set_content(R"({"Id": "sha256:d", "RepoDigests": ["helix/d@sha256:e"],
            "Config": {"Entrypoint": ["/entry"], "Cmd": null, "User": ""}})",
                        "application/json");
      } else if (req.path == "/v1.41/volumes/golden") {
        res.set_content(R"({"Name": "golden", "Driver": "helixvol", "Options": {"from": "p"},
            "Status": {"snapshot": true, "clone_source": "p"},
            "Labels": {"helix.session": "S1", "n": "1"}})",
                        "application/json");
      } else if (req.path == "/v1.41/networks/4f2a") {
        res.set_content(R"({"Id": "4f2a9c", "Name": "host", "Driver": "host"})",
                        "application/json");
      } else if (req.path == "/v1.41/containers/json") {
        filters.push_back(req.get_param_value("filters"));
        // The engine's filter also matches mount destinations: "cache" at
        // /data of "b", and a volume mounted at "/cache" by "c".
        res.set_content(R"([
            {"Id": "a", "Mounts": [{"Type": "volume", "Name": "cache", "Destination": "/x"}]},
            {"Id": "b", "Mounts": [{"Type": "volume", "Name": "cache", "Destination": "/data"},
                                   {"Type": "bind", "Name": "", "Destination": "/y"}]},
            {"Id": "c", "Mounts": [{"Type": "volume", "Name": "other", "Destination": "cache"}]}
          ])",
                        "application/json");
      } else if (req.path == "/v1.41/containers/broken/json") {
        res.status = 500;
        res.set_content(R"({"message": "multiple IDs found with provided prefix: b"})",
                        "application/json");
      } else {
        res.status = 404;
        res.set_content(R"({"message": "No such object"})", "application/json");
      }
    });
    REQUIRE(server.bind_to_port(socket, 80));
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~FakeDockerd() {
    server.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("the engine view inspects containers with their HostConfig as the engine spells it",
          "[authz]") {
  FakeDockerd dockerd;
  DockerEngineView view(dockerd.socket);
  auto c = view.InspectContainer("desktop-1");
  REQUIRE(c.ok());
  CHECK(c->id == "abc");
  CHECK(c->name == "/desktop-1");
  CHECK(c->host_config == json{{"Privileged", true}, {"CapAdd", {"ALL"}}});
  REQUIRE(c->mounts.size() == 1);
  CHECK(c->mounts[0].driver == "helixvol");
  CHECK(c->mounts[0].destination == "/var/lib/docker");
}

TEST_CASE("the engine view keeps slashes in image names and reads repo digests", "[authz]") {
  FakeDockerd dockerd;
  DockerEngineView view(dockerd.socket);
  auto i = view.InspectImage("helix-e2e/dind");
  REQUIRE(i.ok());
  CHECK(i->id == "sha256:d");
  CHECK(i->repo_digests == std::vector<std::string>{"helix/d@sha256:e"});
  CHECK(i->config == json{{"Entrypoint", {"/entry"}}, {"Cmd", nullptr}, {"User", ""}});
}

TEST_CASE("the engine view reads helixvol's snapshot flag from the volume status", "[authz]") {
  FakeDockerd dockerd;
  DockerEngineView view(dockerd.socket);
  auto v = view.InspectVolume("golden");
  REQUIRE(v.ok());
  CHECK(v->driver == "helixvol");
  CHECK(v->snapshot);
  CHECK(v->clone_source == "p");
  CHECK(v->labels == std::map<std::string, std::string>{{"helix.session", "S1"}, {"n", "1"}});
}

TEST_CASE("the engine view inspects networks by ID prefix", "[authz]") {
  FakeDockerd dockerd;
  DockerEngineView view(dockerd.socket);
  auto n = view.InspectNetwork("4f2a");
  REQUIRE(n.ok());
  CHECK(n->id == "4f2a9c");
  CHECK(n->name == "host");
  CHECK(n->driver == "host");
}

TEST_CASE("the engine view lists the containers that mount a volume by its name only", "[authz]") {
  FakeDockerd dockerd;
  DockerEngineView view(dockerd.socket);
  auto ids = view.ContainersUsingVolume("cache");
  REQUIRE(ids.ok());
  CHECK(*ids == std::vector<std::string>{"a", "b"});
  REQUIRE(dockerd.filters.size() == 1);
  CHECK(dockerd.filters[0] == R"({"volume":["cache"]})");
}

TEST_CASE("the engine view tells not-found from other failures", "[authz]") {
  FakeDockerd dockerd;
  DockerEngineView view(dockerd.socket);
  auto missing = view.InspectVolume("nope");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind() == ErrorKind::kNotFound);
  CHECK(missing.error().message() == "volume \"nope\" not found");
  auto broken = view.InspectContainer("broken");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().kind() == ErrorKind::kSystem);
  CHECK(broken.error().message() ==
        "inspect container \"broken\": GET /containers/broken/json: multiple IDs found with "
        "provided prefix: b (HTTP 500)");
  auto escaped = view.InspectContainer("a b");
  CHECK_FALSE(escaped.ok());
  CHECK(dockerd.paths.back() == "/v1.41/containers/a b/json");  // sent as a%20b
}

TEST_CASE("the engine view names the socket when nothing listens", "[authz]") {
  helix::testing::TempDir dir;
  DockerEngineView view(dir.path() + "/none.sock", 1);
  auto c = view.InspectContainer("x");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().kind() == ErrorKind::kSystem);
  CHECK(c.error().message().rfind(
            "inspect container \"x\": GET /containers/x/json on " + dir.path() + "/none.sock: ",
            0) == 0);
}
