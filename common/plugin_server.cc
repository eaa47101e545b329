#include "common/plugin_server.h"

#include <spdlog/spdlog.h>
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

constexpr const char* kContentType = "application/vnd.docker.plugins.v1+json";

void Answer(const httplib::Request& req, httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), kContentType);
  if (status != 200) {
    spdlog::warn("{} {}: {} {}", req.method, req.path, status, body.value("Err", ""));
  }
}

json Err(const std::string& message) { return json{{"Err", message}}; }

// An answer for a request httplib refused before any route ran.
void HttpError(const httplib::Request& req, httplib::Response& res) {
  if (req.path.empty()) {
    Answer(req, res, 400, Err("malformed HTTP request"));
  } else if (req.method != "POST") {
    Answer(req, res, 405,
           Err("method " + req.method + " not allowed on " + req.path +
               ": plugin endpoints take POST"));
  } else if (res.status == 400 && !req.has_header("Content-Length") &&
             !req.has_header("Transfer-Encoding")) {
    // httplib reads a POST body only with a length or chunked; without
    // either it gives up after its read timeout (5 s).
    Answer(req, res, 400, Err("request to " + req.path + " has no Content-Length"));
  } else {
    Answer(
        req, res, res.status,
        Err("request to " + req.path + " failed with HTTP status " + std::to_string(res.status)));
  }
}

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

PluginServer::PluginServer(Options options) : options_(std::move(options)) {
  server_.set_address_family(AF_UNIX);
  const size_t threads = options_.threads;
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // One request per connection: httplib notices stop() on an idle keep-alive
  // connection only after its keep-alive timeout (5 s), and dockerd keeps
  // one open, so every `docker plugin disable` would wait that long.
  // Reconnecting over a Unix socket costs microseconds.
  server_.set_keep_alive_max_count(1);
  // One route for every POST, so that an exact path lookup (not a regex, in
  // which "." matches anything) decides what runs.
  server_.Post(".*",
               [this](const httplib::Request& req, httplib::Response& res) { Dispatch(req, res); });
  // httplib's own failures (other methods, unreadable requests) arrive here
  // with an empty body; answers we built ourselves pass through untouched.
  server_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        HttpError(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }));
}

PluginServer::~PluginServer() { Stop(); }

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
      return SysError("remove stale socket " + path);
    }
  }
  errno = 0;
  if (!server_.bind_to_port(path, 80)) {
    if (errno != 0) {
      return SysError("listen on " + path);
    }
    return Error(ErrorKind::kSystem, "listen on " + path + ": cannot bind");
  }
  auto id = IdOf(path);
  std::lock_guard lock(state_mu_);
  bound_ = true;
  socket_id_ = id.ok() ? *id : FileId{};
  return Ok();
}

void PluginServer::Serve() {
  {
    std::lock_guard lock(state_mu_);
    if (!bound_ || stopped_) {
      return;
    }
    serving_ = true;
  }
  server_.listen_after_bind();
  std::lock_guard lock(state_mu_);
  serving_ = false;
}

void PluginServer::Stop() {
  {
    std::lock_guard lock(ready_mu_);
    stopping_ = true;
  }
  // Requests parked in WaitReady would otherwise keep the thread pool, and
  // so Serve(), from ever finishing.
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
  // Serve() may be between its check and httplib marking itself running;
  // stop() before that point would be lost.
  for (;;) {
    {
      std::lock_guard lock(state_mu_);
      if (!serving_) {
        break;
      }
    }
    if (server_.is_running()) {
      server_.stop();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
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

void PluginServer::Dispatch(const httplib::Request& req, httplib::Response& res) {
  spdlog::debug("{} {}", req.method, req.path);
  // Activate never waits: dockerd calls it first and gives up quickly.
  if (req.path == "/Plugin.Activate") {
    Answer(req, res, 200, json{{"Implements", options_.implements}});
    return;
  }
  auto it = handlers_.find(req.path);
  if (it == handlers_.end()) {
    Answer(req, res, 404, Err("unknown endpoint " + req.path));
    return;
  }
  WaitReady();
  {
    std::lock_guard lock(ready_mu_);
    if (!ready_) {
      Answer(req, res, 503, Err("plugin is shutting down"));
      return;
    }
  }
  json request;
  try {
    request = req.body.empty() ? json::object() : json::parse(req.body);
  } catch (const json::parse_error& e) {
    Answer(req, res, 400, Err("malformed JSON in request to " + req.path + ": " + e.what()));
    return;
  }
  if (request.is_null()) {
    request = json::object();
  } else if (!request.is_object()) {
    Answer(req, res, 400, Err("request to " + req.path + " must be a JSON object"));
    return;
  }
  try {
    Result<json> answer = it->second(request);
    if (!answer) {
      Answer(req, res, 500, Err(answer.error().message()));
      return;
    }
    Answer(req, res, 200, answer->is_null() ? json::object() : *answer);
  } catch (const std::exception& e) {
    Answer(req, res, 500, Err(e.what()));
  } catch (...) {
    Answer(req, res, 500, Err("handler for " + req.path + " failed"));
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
