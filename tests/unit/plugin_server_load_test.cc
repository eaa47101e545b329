// PluginServer under slow, idle and numerous clients and oversized bodies,
// over real Unix sockets (no root needed).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/http/plugin_server.h"
#include "net/test_server.h"
#include "net/unix_client.h"

namespace helix {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using helix::testing::ConnectUnix;
using helix::testing::ReadUntilClosed;
using helix::testing::SendAll;
using helix::testing::StatusAndBody;
using helix::testing::StillOpen;
using helix::testing::TestServer;

// Handlers for the load tests: List answers at once; Echo returns its body.
void AddQuickHandlers(TestServer& t, std::atomic<int>* echo_calls = nullptr) {
  t.server.Handle("/VolumeDriver.List", [](const json&) -> Result<json> {
    return json{{"Volumes", json::array()}};
  });
  t.server.Handle("/Test.Echo", [echo_calls](const json& req) -> Result<json> {
    if (echo_calls) ++*echo_calls;
    return req;
  });
}

// The quick handlers, served and ready.
void ServeQuick(TestServer& t, std::atomic<int>* echo_calls = nullptr) {
  AddQuickHandlers(t, echo_calls);
  t.Start();
  t.server.SetReady();
}

TEST_CASE("PluginServer answers List while 40 clients trickle header bytes", "[common][load]") {
  PluginServer::Options o;
  o.header_timeout = 60s;  // the trickles outlive the test
  TestServer t(o);
  ServeQuick(t);
  std::vector<UniqueFd> slow;
  const std::string head = "POST /Test.Echo HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 40; ++i) slow.push_back(ConnectUnix(t.socket));
  // A byte each from every client, several rounds, the way a slow client
  // keeps each read of a blocking server waiting.
  for (size_t round = 0; round < 5; ++round) {
    for (auto& c : slow) REQUIRE(SendAll(c.get(), head.substr(round, 1)));
    std::this_thread::sleep_for(20ms);
  }
  auto r = CallPlugin(t.socket, "/VolumeDriver.List", nullptr, 30);
  REQUIRE(r.ok());
  CHECK(*r == json{{"Volumes", json::array()}});
  for (auto& c : slow) CHECK(StillOpen(c.get()));  // answered while they all waited
}

TEST_CASE("PluginServer answers List while 40 clients hold idle connections", "[common][load]") {
  TestServer t;
  ServeQuick(t);
  std::vector<UniqueFd> idle;
  for (int i = 0; i < 40; ++i) idle.push_back(ConnectUnix(t.socket));
  auto r = CallPlugin(t.socket, "/VolumeDriver.List", nullptr, 30);
  REQUIRE(r.ok());
  for (auto& c : idle) CHECK(StillOpen(c.get()));  // nobody waited for them to be dropped
}

TEST_CASE("PluginServer takes 300 simultaneous connects without EAGAIN", "[common][load]") {
  TestServer t;
  AddQuickHandlers(t);
  REQUIRE(t.server.Listen().ok());
  // Nothing accepts yet: every connect waits in the listen backlog.
  std::vector<UniqueFd> many;
  for (int i = 0; i < 300; ++i) {
    many.push_back(ConnectUnix(t.socket));
    INFO("connect " << i << ": " << std::strerror(errno));
    REQUIRE(many.back().valid());
  }
  t.thread = std::thread([&t] { t.server.Serve(); });
  t.server.SetReady();
  const std::string req =
      "POST /VolumeDriver.List HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  for (auto& c : many) REQUIRE(SendAll(c.get(), req));
  for (auto& c : many) CHECK(StatusAndBody(ReadUntilClosed(c.get())).first == 200);
}

TEST_CASE("PluginServer refuses a body over its limit before reading it", "[common][load]") {
  PluginServer::Options o;
  o.max_body_bytes = 1 << 20;
  TestServer t(o);
  std::atomic<int> calls = 0;
  ServeQuick(t, &calls);
  UniqueFd c = ConnectUnix(t.socket);
  REQUIRE(
      SendAll(c.get(), "POST /Test.Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n" +
                           std::string(4096, '{')));
  auto [status, body] = StatusAndBody(ReadUntilClosed(c.get()));
  CHECK(status == 413);
  CHECK(json::parse(body) ==
        json{{"Err", "request to /Test.Echo: body of 209715200 bytes is over the limit of 1MiB"}});

  // Chunked: no length up front, so it is counted as it arrives.
  UniqueFd chunked = ConnectUnix(t.socket);
  std::string chunk = std::string(1 << 16, ' ');
  std::string req = "POST /Test.Echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) req += "10000\r\n" + chunk + "\r\n";
  (void)SendAll(chunked.get(), req);  // the server may close before it has all of it
  auto [cstatus, cbody] = StatusAndBody(ReadUntilClosed(chunked.get()));
  CHECK(cstatus == 413);
  CHECK(json::parse(cbody) ==
        json{{"Err", "request to /Test.Echo: body of more than 1MiB is over the limit of 1MiB"}});
  CHECK(calls == 0);
  CHECK(CallPlugin(t.socket, "/Test.Echo", json{{"small", "fine"}}, 5).ok());
}

TEST_CASE("PluginServer answers 408 to a request that misses its deadlines", "[common][load]") {
  PluginServer::Options o;
  o.header_timeout = 200ms;
  o.body_timeout = 200ms;
  TestServer t(o);
  std::atomic<int> calls = 0;
  ServeQuick(t, &calls);
  UniqueFd headers = ConnectUnix(t.socket);
  REQUIRE(SendAll(headers.get(), "POST /Test.Echo HTTP/1.1\r\nHo"));
  auto [hstatus, hbody] = StatusAndBody(ReadUntilClosed(headers.get()));
  CHECK(hstatus == 408);
  CHECK(json::parse(hbody) == json{{"Err", "request headers not complete within 200ms"}});

  UniqueFd body = ConnectUnix(t.socket);
  REQUIRE(SendAll(body.get(),
                  "POST /Test.Echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\""));
  auto [bstatus, bbody] = StatusAndBody(ReadUntilClosed(body.get()));
  CHECK(bstatus == 408);
  CHECK(json::parse(bbody) ==
        json{{"Err", "request to /Test.Echo: body not complete within 200ms"}});
  CHECK(calls == 0);
}

}  // namespace
}  // namespace helix
