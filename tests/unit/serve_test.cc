// ServeUntilSignal: the start-up both binaries share, with a real server on a
// temporary socket and a real SIGTERM to this process.
#include "common/http/serve.h"

#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "fakes/temp_dir.h"

namespace helix {
namespace {

TEST_CASE("a served plugin answers after its start-up and stops on SIGTERM", "[server]") {
  testing::TempDir dir;
  const std::string socket = dir.path() + "/p.sock";
  SignalWaiter signals(/*hup=*/true);  // in this thread, before any other starts
  PluginServer::Options options;
  options.socket_path = socket;
  options.implements = {"Test"};
  PluginServer server(options);
  std::atomic<bool> started{false};
  server.Handle("/Test.Ping", [&](const nlohmann::json&) -> Result<nlohmann::json> {
    return nlohmann::json{{"Started", started.load()}};
  });
  std::promise<void> release_start;
  std::atomic<int> hups{0};
  auto serving = std::async(std::launch::async, [&] {
    return ServeUntilSignal(
        server, signals,
        [&]() -> Status {
          release_start.get_future().wait();
          started = true;
          return Ok();
        },
        [&] { ++hups; });
  });
  // Listening already, but a request waits for the start-up to finish.
  while (::access(socket.c_str(), F_OK) != 0) std::this_thread::yield();
  auto answer = std::async(std::launch::async, [&] {
    return CallPlugin(socket, "/Test.Ping", nlohmann::json::object());
  });
  CHECK(answer.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout);
  release_start.set_value();
  auto got = answer.get();
  REQUIRE(got.ok());
  CHECK((*got)["Started"] == true);
  ::kill(::getpid(), SIGHUP);
  while (hups.load() == 0) std::this_thread::yield();
  ::kill(::getpid(), SIGTERM);
  CHECK(serving.get() == 0);
  CHECK(::access(socket.c_str(), F_OK) != 0);  // the socket file is gone
}

TEST_CASE("a failed start-up stops the server and says so in the exit status", "[server]") {
  testing::TempDir dir;
  SignalWaiter signals(/*hup=*/false);
  PluginServer::Options options;
  options.socket_path = dir.path() + "/p.sock";
  options.implements = {"Test"};
  PluginServer server(options);
  CHECK(ServeUntilSignal(server, signals, [] { return Status(InvalidArgument("no pool")); }) == 1);
}

}  // namespace
}  // namespace helix
