// The helixvol binary under slow, idle and numerous clients and an oversized
// body: Get, List and Path keep answering while they are all connected (the
// shared server's limits, common/http/plugin_server.h).
#include <catch2/catch.hpp>
#include <thread>

#include "net/unix_client.h"
#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::ConnectUnix;
using helix::testing::PluginProcess;
using helix::testing::ReadUntilClosed;
using helix::testing::SendAll;
using helix::testing::StatusAndBody;
using helix::testing::StillOpen;
using nlohmann::json;

TEST_CASE("helixvol answers Get, List and Path with slow, idle and many clients connected",
          "[plugin][load]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", std::string(64, 'a')}}).ok());

  std::vector<helix::UniqueFd> slow, idle, burst;
  const std::string head = "POST /VolumeDriver.List HTTP/1.1\r\nHost: x\r\n";
  for (auto* group : {&slow, &idle}) {
    for (int i = 0; i < 40; ++i) {
      group->push_back(ConnectUnix(p.socket()));
      INFO("connect " << i << ": " << std::strerror(errno));
      REQUIRE(group->back().valid());
    }
  }
  for (size_t round = 0; round < 3; ++round) {
    for (auto& c : slow) REQUIRE(SendAll(c.get(), head.substr(round, 1)));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (int i = 0; i < 300; ++i) {
    burst.push_back(ConnectUnix(p.socket()));
    INFO("connect " << i << ": " << std::strerror(errno));
    REQUIRE(burst.back().valid());  // no EAGAIN from a full backlog
  }

  CHECK(p.Names() == std::vector<std::string>{"v1"});
  CHECK(p.Status("v1")["mounted"] == true);
  auto path = p.Call("Path", {{"Name", "v1"}});
  REQUIRE(path.ok());
  CHECK((*path)["Mountpoint"] == p.mount_root() + "/v1/data");
  for (auto& c : slow) CHECK(StillOpen(c.get()));
  for (auto& c : idle) CHECK(StillOpen(c.get()));

  // A 200 MB body is refused from its Content-Length, not read.
  helix::UniqueFd big = ConnectUnix(p.socket());
  REQUIRE(SendAll(big.get(),
                  "POST /VolumeDriver.Create HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  "209715200\r\n\r\n{\"Name\": \"huge\", \"Opts\": {\"x\": \""));
  auto [status, body] = StatusAndBody(ReadUntilClosed(big.get()));
  CHECK(status == 413);
  CHECK(body == json{{"Err",
                      "request to /VolumeDriver.Create: body of 209715200 bytes is over the "
                      "limit of 1MiB"}}
                    .dump());
  CHECK(p.Names() == std::vector<std::string>{"v1"});
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", std::string(64, 'a')}}).ok());
}
