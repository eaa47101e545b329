// DockerClient: the few calls of the Docker Engine API that operator commands
// (helixvol preload) need, over the engine's Unix socket.
//
// Paths are given without the version prefix ("/volumes/create"); every call
// is sent as /v<api_version>/... so that the engine does not fall back to old
// behaviour. An answer outside 2xx becomes an Error carrying the engine's own
// "message" (an authorization plugin's denial arrives that way too), with
// kNotFound for 404 and kAlreadyExists for 409 so callers can branch.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace helix {

class DockerClient {
 public:
  // `socket_path` is a filesystem path ("/var/run/docker.sock"). A call
  // waits at most `timeout_seconds` for the engine to send or take data.
  explicit DockerClient(std::string socket_path, std::string api_version = "1.41",
                        int timeout_seconds = 600);

  // Turns a DOCKER_HOST value into a socket path: "unix:///x/y.sock" and a
  // bare absolute path are accepted; tcp:// and ssh:// are refused by name.
  static Result<std::string> SocketFromHost(std::string_view host);

  const std::string& socket_path() const { return socket_path_; }

  Result<nlohmann::json> Get(const std::string& path) const;
  // POSTs `body` as JSON (nothing when null) and returns the decoded answer
  // ({} when the engine answers with no body, as start and stop do).
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body = nullptr) const;
  Status Delete(const std::string& path) const;

  // GETs `path` and hands the body to `sink` as it arrives; the sink returns
  // false to stop early (the call then fails with "cancelled").
  using Sink = std::function<bool(const char* data, size_t size)>;
  Status GetStream(const std::string& path, const Sink& sink) const;

  // POSTs `path` with "Upgrade: tcp" (attach) and returns the raw connection
  // once the engine has switched protocols: what is written to it goes to the
  // container's stdin; shutdown(SHUT_WR) closes that stdin.
  Result<UniqueFd> Hijack(const std::string& path) const;

  // "a/b:c" -> "a%2Fb%3Ac": for names inside query strings.
  static std::string QueryEscape(std::string_view value);
  // For a name inside a path, where the engine routes "/images/{name:.*}/json":
  // "/", ":" and "@" of image references stay as they are.
  static std::string PathEscape(std::string_view value);

 private:
  std::string Versioned(const std::string& path) const;

  std::string socket_path_;
  std::string api_version_;
  int timeout_seconds_;
};

}  // namespace helix
