#include "common/http/plugin_server.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include <httplib.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <catch2/catch.hpp>

#include "common/file_util.h"
#include "common/log.h"
#include "net/test_server.h"

namespace helix {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using helix::testing::MakeTempDir;
using helix::testing::TestServer;

struct RawAnswer {
  int status = 0;
  std::string content_type;
  json body;
};

// What CallPlugin hides: the status and the raw body.
RawAnswer Post(const std::string& socket, const std::string& path, const std::string& body,
               const std::string& method = "POST") {
  httplib::Client client(socket, 80);
  client.set_address_family(AF_UNIX);
  httplib::Result res =
      method == "POST" ? client.Post(path, body, "application/json") : client.Get(path);
  REQUIRE(res);
  return {res->status, res->get_header_value("Content-Type"), json::parse(res->body)};
}

// Captures the server's debug log so a test can tell when a request has
// reached it: "POST /Test.Echo" is logged on arrival, before any waiting.
struct LogWatch {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  LogWatch() {
    auto logger = std::make_shared<spdlog::logger>("plugin-server-test", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  void WaitFor(const std::string& text) {
    auto give_up = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < give_up) {
      for (const std::string& line : sink->last_formatted()) {
        if (line.find(text) != std::string::npos) {
          return;
        }
      }
      std::this_thread::sleep_for(1ms);
    }
    FAIL("no log line with \"" << text << "\"");
  }
};

std::string ParseErrorOf(const std::string& text) {
  try {
    json parsed = json::parse(text);
    FAIL("\"" << text << "\" parsed as " << parsed.dump());
  } catch (const json::parse_error& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("PluginServer answers Activate before it is ready", "[common]") {
  TestServer t;
  t.Start();
  auto r = CallPlugin(t.socket, "/Plugin.Activate", nullptr, 5);
  REQUIRE(r.ok());
  CHECK(*r == json{{"Implements", {"VolumeDriver"}}});
  CHECK(Post(t.socket, "/Plugin.Activate", "").content_type ==
        "application/vnd.docker.plugins.v1+json");
}

TEST_CASE("PluginServer holds other requests until SetReady", "[common]") {
  TestServer t;
  t.server.Handle("/Test.Echo", [](const json& req) -> Result<json> { return req; });
  LogWatch log;
  t.Start();
  std::atomic<bool> returned = false;
  auto call = std::async(std::launch::async, [&] {
    auto r = CallPlugin(t.socket, "/Test.Echo", json{{"Name", "v1"}}, 10);
    returned = true;
    return r;
  });
  log.WaitFor("POST /Test.Echo");
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(returned);
  t.server.SetReady();
  auto r = call.get();
  REQUIRE(r.ok());
  CHECK(*r == json{{"Name", "v1"}});
}

TEST_CASE("PluginServer answers malformed JSON with 400 and skips the handler", "[common]") {
  TestServer t;
  int calls = 0;
  t.server.Handle("/VolumeDriver.Create", [&](const json&) -> Result<json> {
    ++calls;
    return json::object();
  });
  t.Start();
  t.server.SetReady();
  RawAnswer a = Post(t.socket, "/VolumeDriver.Create", "{oops");
  CHECK(a.status == 400);
  CHECK(a.body["Err"] ==
        "malformed JSON in request to /VolumeDriver.Create: " + ParseErrorOf("{oops"));
  CHECK(calls == 0);
}

TEST_CASE("PluginServer refuses a JSON body that is not an object", "[common]") {
  TestServer t;
  int calls = 0;
  t.server.Handle("/VolumeDriver.Create", [&](const json&) -> Result<json> {
    ++calls;
    return json::object();
  });
  t.Start();
  t.server.SetReady();
  RawAnswer a = Post(t.socket, "/VolumeDriver.Create", "[1, 2]");
  CHECK(a.status == 400);
  CHECK(a.body["Err"] == "request to /VolumeDriver.Create must be a JSON object");
  CHECK(calls == 0);
}

TEST_CASE("PluginServer hands a null or empty body to the handler as {}", "[common]") {
  TestServer t;
  std::vector<json> seen;
  t.server.Handle("/VolumeDriver.List", [&](const json& req) -> Result<json> {
    seen.push_back(req);
    return json{{"Volumes", json::array()}};
  });
  t.Start();
  t.server.SetReady();
  RawAnswer a = Post(t.socket, "/VolumeDriver.List", "null");
  CHECK(a.status == 200);
  CHECK(a.body == json{{"Volumes", json::array()}});
  CHECK(Post(t.socket, "/VolumeDriver.List", "").status == 200);
  CHECK(seen == std::vector<json>{json::object(), json::object()});
}

TEST_CASE("PluginServer turns a handler's error into Err with a non-200 status", "[common]") {
  TestServer t;
  t.server.Handle("/VolumeDriver.Get", [](const json& req) -> Result<json> {
    return NotFound("volume \"" + req.value("Name", "") + "\" not found");
  });
  t.Start();
  t.server.SetReady();
  RawAnswer a = Post(t.socket, "/VolumeDriver.Get", R"({"Name": "v1"})");
  CHECK(a.status == 500);
  CHECK(a.body == json{{"Err", "volume \"v1\" not found"}});
  auto r = CallPlugin(t.socket, "/VolumeDriver.Get", json{{"Name", "v2"}}, 5);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kSystem);
  CHECK(r.error().message() == "volume \"v2\" not found");
}

TEST_CASE("PluginServer answers a handler's exception with 500 and its text", "[common]") {
  TestServer t;
  t.server.Handle("/Test.Throw",
                  [](const json&) -> Result<json> { throw std::runtime_error("boom"); });
  t.Start();
  t.server.SetReady();
  RawAnswer a = Post(t.socket, "/Test.Throw", "{}");
  CHECK(a.status == 500);
  CHECK(a.body == json{{"Err", "boom"}});
}

TEST_CASE("PluginServer refuses an unknown endpoint by name", "[common]") {
  TestServer t;
  t.server.Handle("/Test.Echo", [](const json& req) -> Result<json> { return req; });
  t.Start();
  RawAnswer a = Post(t.socket, "/Foo.Bar", "{}");
  CHECK(a.status == 404);
  CHECK(a.body == json{{"Err", "unknown endpoint /Foo.Bar"}});
  // Paths are compared exactly: "." is not a wildcard.
  CHECK(Post(t.socket, "/TestXEcho", "{}").body == json{{"Err", "unknown endpoint /TestXEcho"}});
  auto r = CallPlugin(t.socket, "/Foo.Bar", json::object(), 5);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "unknown endpoint /Foo.Bar");
}

TEST_CASE("PluginServer refuses methods other than POST", "[common]") {
  TestServer t;
  t.Start();
  RawAnswer a = Post(t.socket, "/Plugin.Activate", "", "GET");
  CHECK(a.status == 405);
  CHECK(a.body ==
        json{{"Err", "method GET not allowed on /Plugin.Activate: plugin endpoints take POST"}});
}

TEST_CASE("PluginServer::Stop releases waiting requests and removes the socket", "[common]") {
  TestServer t;
  t.server.Handle("/Test.Echo", [](const json& req) -> Result<json> { return req; });
  LogWatch log;
  t.Start();
  auto call = std::async(std::launch::async,
                         [&] { return CallPlugin(t.socket, "/Test.Echo", json::object(), 10); });
  log.WaitFor("POST /Test.Echo");
  t.server.Stop();
  t.thread.join();
  auto r = call.get();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "plugin is shutting down");
  CHECK(::access(t.socket.c_str(), F_OK) != 0);
}

TEST_CASE("PluginServer::Serve returns at once after an early Stop", "[common]") {
  TestServer t;
  REQUIRE(t.server.Listen().ok());
  t.server.Stop();
  t.server.Serve();  // would block forever if the stop were lost
  CHECK(::access(t.socket.c_str(), F_OK) != 0);
}

TEST_CASE("PluginServer::Listen replaces a stale socket file", "[common]") {
  TestServer t;
  REQUIRE(MakeDirs(t.dir + "/run").ok());
  {
    // A socket file nobody listens on, as a crashed plugin leaves behind.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    t.socket.copy(addr.sun_path, sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  t.Start();
  CHECK(CallPlugin(t.socket, "/Plugin.Activate", nullptr, 5).ok());
}

TEST_CASE("PluginServer::Listen refuses a socket another server is serving", "[common]") {
  TestServer t;
  t.Start();
  PluginServer second({t.socket, {"VolumeDriver"}, 1});
  Status s = second.Listen();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kBusy);
  CHECK(s.error().message() ==
        "listen on " + t.socket + ": another process is serving this socket");
  CHECK(CallPlugin(t.socket, "/Plugin.Activate", nullptr, 5).ok());
}

TEST_CASE("PluginServer::Listen refuses to delete a file that is not a socket", "[common]") {
  TestServer t;
  REQUIRE(MakeDirs(t.dir + "/run").ok());
  REQUIRE(AtomicWriteFile(t.socket, "precious").ok());
  Status s = t.server.Listen();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        "listen on " + t.socket + ": a file that is not a socket is in the way");
  CHECK(ReadFile(t.socket).value() == "precious");
}

TEST_CASE("PluginServer::Stop leaves a successor's socket in place", "[common]") {
  TestServer old_server;
  old_server.Start();
  // The path was taken over, as by a restarted plugin whose predecessor is
  // still shutting down.
  REQUIRE(::unlink(old_server.socket.c_str()) == 0);
  PluginServer successor({old_server.socket, {"VolumeDriver"}, 1});
  REQUIRE(successor.Listen().ok());
  std::thread serving([&] { successor.Serve(); });
  old_server.server.Stop();
  CHECK(::access(old_server.socket.c_str(), F_OK) == 0);
  CHECK(CallPlugin(old_server.socket, "/Plugin.Activate", nullptr, 5).ok());
  successor.Stop();
  serving.join();
}

TEST_CASE("PluginServer::Listen refuses a socket path too long for a Unix socket", "[common]") {
  std::string path = "/tmp/" + std::string(110, 'x') + ".sock";
  PluginServer server({path, {"VolumeDriver"}, 1});
  Status s = server.Listen();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(s.error().message() == "socket path \"" + path + "\" must be 1 to 107 bytes long");
}

TEST_CASE("CallPlugin names the socket when nothing listens there", "[common]") {
  std::string dir = MakeTempDir();
  auto r = CallPlugin(dir + "/missing.sock", "/Plugin.Activate", nullptr, 5);
  (void)RemoveTree(dir);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kSystem);
  CHECK(r.error().message() == "call /Plugin.Activate on " + dir + "/missing.sock: Connection");
}

TEST_CASE("CallPlugin quotes the status and body of an answer that is not JSON", "[common]") {
  std::string dir = MakeTempDir();
  std::string socket = dir + "/odd.sock";
  httplib::Server odd;
  odd.set_address_family(AF_UNIX);
  odd.Post("/Plugin.Activate", [](const httplib::Request&, httplib::Response& res) {
    res.status = 502;
    res.set_content("bad gateway", "text/plain");
  });
  REQUIRE(odd.bind_to_port(socket, 80));
  std::thread thread([&] { odd.listen_after_bind(); });
  while (!odd.is_running()) {
    std::this_thread::sleep_for(1ms);
  }
  auto r = CallPlugin(socket, "/Plugin.Activate", nullptr, 5);
  odd.stop();
  thread.join();
  (void)RemoveTree(dir);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() ==
        "call /Plugin.Activate on " + socket + ": HTTP status 502: bad gateway");
}

}  // namespace
}  // namespace helix
