// A PluginServer on a socket in a fresh directory, served from a thread, for
// the server's unit tests.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "common/file_util.h"
#include "common/http/plugin_server.h"
#include "common/log.h"

namespace helix::testing {

inline std::string MakeTempDir() {
  char tmpl[] = "/tmp/helix-plugin-server-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  return tmpl;
}

// A PluginServer on a socket in a fresh directory, served from a thread.
// Handlers are added before Start(), as the contract asks.
struct TestServer {
  std::string dir = MakeTempDir();
  std::string socket = dir + "/run/plugin.sock";  // run/ does not exist yet
  PluginServer server;
  std::thread thread;

  explicit TestServer(PluginServer::Options options = {})
      : server(WithDefaults(std::move(options), socket)) {
    REQUIRE(InitLogging("off").ok());
  }
  static PluginServer::Options WithDefaults(PluginServer::Options o, const std::string& socket) {
    o.socket_path = socket;
    o.implements = {"VolumeDriver"};
    if (o.threads == PluginServer::Options().threads) o.threads = 4;
    return o;
  }
  void Start() {
    REQUIRE(server.Listen().ok());
    thread = std::thread([this] { server.Serve(); });
  }
  ~TestServer() {
    server.Stop();
    if (thread.joinable()) {
      thread.join();
    }
    (void)RemoveTree(dir);
    (void)InitLogging("info");
  }
};

}  // namespace helix::testing
