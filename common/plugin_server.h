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
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/result.h"

namespace helix {

class PluginServer {
 public:
  using Handler = std::function<Result<nlohmann::json>(const nlohmann::json& request)>;

  struct Options {
    std::string socket_path;
    std::vector<std::string> implements;  // e.g. {"VolumeDriver"}
    size_t threads = 32;                  // enough that slow calls never starve Get/List
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
  void WaitReady();
  // Answers one request: the single route behind every POST path.
  void Dispatch(const httplib::Request& req, httplib::Response& res);

  Options options_;
  std::map<std::string, Handler> handlers_;  // written only before Listen()
  httplib::Server server_;
  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  bool ready_ = false;     // guarded by ready_mu_
  bool stopping_ = false;  // guarded by ready_mu_; releases waiters on Stop()

  // Orders Serve() against Stop() from another thread: httplib's stop() does
  // nothing until its accept loop has started.
  std::mutex state_mu_;
  bool bound_ = false;    // guarded by state_mu_
  FileId socket_id_;      // guarded by state_mu_; the socket file we made
  bool serving_ = false;  // guarded by state_mu_
  bool stopped_ = false;  // guarded by state_mu_
};

// A client for the same protocol, for tests and operator commands: POSTs
// `body` to `path` on the Unix socket and returns the decoded answer. An
// answer with a non-empty "Err" becomes an Error carrying that text.
Result<nlohmann::json> CallPlugin(const std::string& socket_path, const std::string& path,
                                  const nlohmann::json& body, int timeout_seconds = 130);

}  // namespace helix
