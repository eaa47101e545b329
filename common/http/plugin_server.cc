#include "common/http/plugin_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include "common/file_util.h"
#include "common/quote.h"
#include "common/unique_fd.h"

namespace helix {
namespace {

using nlohmann::json;

json Err(const std::string& message) { return json{{"Err", message}}; }

// True when something accepts connections on the Unix socket at `path`.
bool SomeoneListens(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  return fd.valid() &&
         ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

void PluginServer::Handle(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
}

Status PluginServer::Listen() {
  const std::string& path = options_.socket_path;
  {
    std::lock_guard lock(state_mu_);
    if (bound_ || stopped_) {
      return InvalidArgument("listen on " + path + ": called twice or after Stop()");
    }
  }
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return InvalidArgument("socket path " + Quote(path) + " must be 1 to " +
                           std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes long");
  }
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    HELIX_TRY(MakeDirs(path.substr(0, slash)));
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    // Only a socket nobody answers on is stale; anything else is a mistake
    // we should not paper over by deleting it.
    if (!S_ISSOCK(st.st_mode)) {
      return AlreadyExists("listen on " + path + ": a file that is not a socket is in the way");
    }
    if (SomeoneListens(path)) {
      return Busy("listen on " + path + ": another process is serving this socket");
    }
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
      return HELIX_SYS_ERROR("remove stale socket " + path);
    }
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd.valid() || !wake.valid()) {
    return HELIX_SYS_ERROR("listen on " + path);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return HELIX_SYS_ERROR("listen on " + path);
  }
  // The largest backlog the kernel allows: a burst of connects (dockerd
  // starting many containers at once) waits here instead of failing.
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    return HELIX_SYS_ERROR("listen on " + path);
  }
  auto id = IdOf(path);
  std::lock_guard lock(state_mu_);
  listen_fd_ = std::move(fd);
  wake_fd_ = std::move(wake);
  bound_ = true;
  socket_id_ = id.ok() ? *id : FileId{};
  return Ok();
}

void PluginServer::Stop() {
  {
    std::lock_guard lock(ready_mu_);
    stopping_ = true;
  }
  // Requests parked in WaitReady would otherwise keep a worker, and so
  // Serve(), from ever finishing.
  ready_cv_.notify_all();
  bool was_bound = false;
  FileId ours;
  {
    std::lock_guard lock(state_mu_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
    was_bound = bound_;
    ours = socket_id_;
  }
  if (was_bound) {
    Wake();
  }
  // A successor that already listens on the same path keeps its socket.
  auto id = IdOf(options_.socket_path);
  if (was_bound && id.ok() && *id == ours && ::unlink(options_.socket_path.c_str()) < 0 &&
      errno != ENOENT) {
    spdlog::warn("remove socket {}: {}", options_.socket_path, std::strerror(errno));
  }
}

void PluginServer::SetReady() {
  {
    std::lock_guard lock(ready_mu_);
    ready_ = true;
  }
  ready_cv_.notify_all();
}

void PluginServer::WaitReady() {
  std::unique_lock lock(ready_mu_);
  ready_cv_.wait(lock, [this] { return ready_ || stopping_; });
}

PluginServer::Answered PluginServer::Dispatch(const std::string& method, const std::string& path,
                                              const std::string& body) {
  spdlog::debug("{} {}", method, path);
  if (method != "POST") {
    return {405,
            Err("method " + method + " not allowed on " + path + ": plugin endpoints take POST")
                .dump()};
  }
  // Activate never waits: dockerd calls it first and gives up quickly.
  if (path == "/Plugin.Activate") {
    return {200, json{{"Implements", options_.implements}}.dump()};
  }
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    return {404, Err("unknown endpoint " + path).dump()};
  }
  WaitReady();
  {
    std::lock_guard lock(ready_mu_);
    if (!ready_) {
      return {503, Err("plugin is shutting down").dump()};
    }
  }
  json request;
  try {
    request = body.empty() ? json::object() : json::parse(body);
  } catch (const json::parse_error& e) {
    return {400, Err("malformed JSON in request to " + path + ": " + e.what()).dump()};
  }
  if (request.is_null()) {
    request = json::object();
  } else if (!request.is_object()) {
    return {400, Err("request to " + path + " must be a JSON object").dump()};
  }
  try {
    Result<json> answer = it->second(request);
    if (!answer) {
      return {500, Err(answer.error().message()).dump()};
    }
    return {200, (answer->is_null() ? json::object() : *answer).dump()};
  } catch (const std::exception& e) {
    return {500, Err(e.what()).dump()};
  } catch (...) {
    return {500, Err("handler for " + path + " failed").dump()};
  }
}

Result<json> CallPlugin(const std::string& socket_path, const std::string& path, const json& body,
                        int timeout_seconds) {
  httplib::Client client(socket_path, 80);
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(timeout_seconds);
  client.set_read_timeout(timeout_seconds);
  client.set_write_timeout(timeout_seconds);
  client.set_default_headers({{"Accept", "application/vnd.docker.plugins.v1.2+json"}});
  httplib::Result res = client.Post(path, body.dump(), "application/json");
  const std::string where = "call " + path + " on " + socket_path;
  if (!res) {
    return Error(ErrorKind::kSystem, where + ": " + httplib::to_string(res.error()));
  }
  json answer;
  try {
    answer = res->body.empty() ? json::object() : json::parse(res->body);
  } catch (const json::parse_error&) {
    return Error(ErrorKind::kSystem,
                 where + ": HTTP status " + std::to_string(res->status) + ": " + res->body);
  }
  if (answer.is_object()) {
    auto err = answer.find("Err");
    if (err != answer.end() && err->is_string() && !err->get<std::string>().empty()) {
      return Error(ErrorKind::kSystem, err->get<std::string>());
    }
  }
  if (res->status != 200) {
    return Error(ErrorKind::kSystem,
                 where + ": HTTP status " + std::to_string(res->status) + ": " + res->body);
  }
  return answer;
}

}  // namespace helix
