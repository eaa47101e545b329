// The HTTP side of Docker's plugin protocol: POST /X.Y with a JSON body over a
// Unix socket, answered with JSON. Shared by both plugins; it knows nothing
// about volumes or authorization.
//
// Contract with handlers:
//  - A handler gets the decoded body as a JSON object ("null" and an empty
//    body, which dockerd sends for argument-less calls, arrive as {}).
//  - Malformed JSON or a non-object body is answered 400 {"Err": "..."} and
//    the handler does not run.
//  - A handler's Error becomes {"Err": message} with status 500 (dockerd reads
//    Err from any non-200 answer); success is 200 with the returned object.
//  - Until SetReady() is called, every request but /Plugin.Activate waits, so
//    that nothing is answered from half-recovered state while the socket is
//    already accepting (dockerd gives a starting plugin only seconds).
//
// Clients that are slow, idle or hostile (plugin_server_loop.cc): one thread
// reads every connection without blocking (epoll) until its request is
// complete, and only then hands it to a worker; so no number of clients that
// trickle a header byte a second, or connect and say nothing, holds a worker,
// and Get, List and Path keep answering. A request must bring its headers
// within header_timeout of connecting and its body within body_timeout of
// its headers, else it is answered 408 and closed; a body over max_body_bytes
// is answered 413, as soon as its Content-Length says so, without reading it.
// The listen backlog is the kernel's largest (SOMAXCONN), so a burst of
// connects waits instead of failing with EAGAIN; past max_connections open
// at once, new ones wait in that backlog. One request per connection: the
// answer says "Connection: close" (dockerd reconnects in microseconds; a
// kept-alive idle connection would only delay a stop). Keep-alive, if a
// plugin ever needs it, belongs in the loop's hand-back of a connection after
// its answer.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace helix {

class PluginServer {
 public:
  using Handler = std::function<Result<nlohmann::json>(const nlohmann::json& request)>;

  struct Options {
    std::string socket_path;
    std::vector<std::string> implements;  // e.g. {"VolumeDriver"}
    // Workers running handlers: enough that slow calls (a Mount, an authz
    // decision that asks the engine) never starve quick ones.
    size_t threads = 32;
    size_t max_body_bytes = 4 << 20;  // helixauthz's bodies carry base64 of 1 MiB
    std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
    std::chrono::milliseconds body_timeout{std::chrono::seconds(30)};
    size_t max_connections = 1024;
  };

  explicit PluginServer(Options options);
  ~PluginServer();

  // Registers POST `path` ("/VolumeDriver.Create"). Call before Listen().
  void Handle(const std::string& path, Handler handler);

  // Creates the socket's directory, removes a stale socket file and binds.
  // Returns once the socket accepts connections.
  Status Listen();

  // Serves until Stop(). Call after Listen().
  void Serve();

  // Stops serving and removes the socket file. Safe from any thread.
  void Stop();

  // Releases the requests held back since start.
  void SetReady();

 private:
  struct Connection;
  struct Answered {
    int status;
    std::string body;
  };
  void WaitReady();
  // Answers one complete request: the single route behind every POST path.
  Answered Dispatch(const std::string& method, const std::string& path, const std::string& body);
  // The event loop (plugin_server_loop.cc): accepts, reads, enforces the
  // deadlines and limits, hands complete requests to the workers.
  void Loop();
  void Work();
  void Wake();

  Options options_;
  std::map<std::string, Handler> handlers_;  // written only before Listen()
  UniqueFd listen_fd_;                       // set by Listen(), read by the loop
  UniqueFd wake_fd_;                         // an eventfd: Stop() wakes the loop

  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  bool ready_ = false;     // guarded by ready_mu_
  bool stopping_ = false;  // guarded by ready_mu_; releases waiters on Stop()

  // Complete requests waiting for a worker.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<Connection>> queue_;  // guarded by queue_mu_
  bool draining_ = false;                          // guarded by queue_mu_
  std::atomic<size_t> open_connections_{0};

  std::mutex state_mu_;
  bool bound_ = false;    // guarded by state_mu_
  FileId socket_id_;      // guarded by state_mu_; the socket file we made
  bool stopped_ = false;  // guarded by state_mu_
};

// A client for the same protocol, for tests and operator commands: POSTs
// `body` to `path` on the Unix socket and returns the decoded answer. An
// answer with a non-empty "Err" becomes an Error carrying that text.
Result<nlohmann::json> CallPlugin(const std::string& socket_path, const std::string& path,
                                  const nlohmann::json& body, int timeout_seconds = 130);

}  // namespace helix
