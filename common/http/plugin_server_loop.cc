// PluginServer's connections: one event loop reads every request without
// blocking and enforces the deadlines and limits (plugin_server.h); workers
// run complete requests and write the answers.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "common/http/http_request.h"
#include "common/http/plugin_server.h"

namespace helix {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kContentType = "application/vnd.docker.plugins.v1+json";
// How long a worker may block writing an answer to a client that does not
// read it.
constexpr int kWriteTimeoutSeconds = 10;

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

std::string Response(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
         "\r\nContent-Type: " + kContentType +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

std::string ErrBody(const std::string& message) { return nlohmann::json{{"Err", message}}.dump(); }

// Writes what fits without blocking: for the loop's own short answers
// (errors, refusals), which must never stall the loop.
void WriteNow(int fd, const std::string& data) {
  (void)::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

struct PluginServer::Connection {
  Connection(UniqueFd f, size_t max_body, Clock::time_point d)
      : fd(std::move(f)), reader(max_body), deadline(d) {}
  UniqueFd fd;
  RequestReader reader;
  Clock::time_point deadline;
  bool continued = false;  // "100 Continue" sent
};

// Here, where Connection is complete, because the queue owns them.
PluginServer::PluginServer(Options options) : options_(std::move(options)) {}

PluginServer::~PluginServer() { Stop(); }

void PluginServer::Wake() {
  uint64_t one = 1;
  (void)::write(wake_fd_.get(), &one, sizeof one);
}

void PluginServer::Serve() {
  {
    std::lock_guard lock(state_mu_);
    if (!bound_ || stopped_) {
      return;
    }
  }
  std::vector<std::thread> workers;
  for (size_t i = 0; i < std::max<size_t>(options_.threads, 1); ++i) {
    workers.emplace_back([this] { Work(); });
  }
  Loop();
  {
    std::lock_guard lock(queue_mu_);
    draining_ = true;
  }
  queue_cv_.notify_all();
  for (std::thread& t : workers) {
    t.join();
  }
}

void PluginServer::Loop() {
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  auto watch = [&](int op, int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    return ::epoll_ctl(ep.get(), op, fd, &ev) == 0;
  };
  if (!ep.valid() || !watch(EPOLL_CTL_ADD, wake_fd_.get(), EPOLLIN) ||
      !watch(EPOLL_CTL_ADD, listen_fd_.get(), EPOLLIN)) {
    spdlog::error("serve {}: epoll: {}", options_.socket_path, std::strerror(errno));
    return;
  }
  bool accepting = true;
  std::map<int, std::unique_ptr<Connection>> reading;
  auto close_with = [&](int fd, int status, const std::string& why) {
    spdlog::warn("request on {}: {} {}", options_.socket_path, status, why);
    WriteNow(fd, Response(status, ErrBody(why)));
    reading.erase(fd);
    --open_connections_;
  };
  for (;;) {
    // Past max_connections, new ones wait in the backlog.
    bool room = open_connections_ < options_.max_connections;
    if (room != accepting) {
      watch(EPOLL_CTL_MOD, listen_fd_.get(), room ? static_cast<uint32_t>(EPOLLIN) : 0U);
      accepting = room;
    }
    auto nearest = Clock::time_point::max();
    for (const auto& [fd, c] : reading) {
      nearest = std::min(nearest, c->deadline);
    }
    int timeout = -1;
    if (nearest != Clock::time_point::max()) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(nearest - Clock::now()).count();
      timeout = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
    }
    epoll_event events[64];
    int n = ::epoll_wait(ep.get(), events, 64, timeout);
    if (n < 0 && errno != EINTR) {
      spdlog::error("serve {}: epoll_wait: {}", options_.socket_path, std::strerror(errno));
      break;
    }
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_.get()) {
        // Woken by Stop(), or by a worker that freed a connection slot.
        uint64_t count = 0;
        (void)::read(fd, &count, sizeof count);
        std::lock_guard lock(state_mu_);
        stop = stopped_;
      } else if (fd == listen_fd_.get()) {
        while (open_connections_ < options_.max_connections) {
          UniqueFd c(::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
          if (!c.valid()) {
            break;  // EAGAIN: no more for now; anything else: the next round
          }
          int cfd = c.get();
          ++open_connections_;
          reading[cfd] = std::make_unique<Connection>(std::move(c), options_.max_body_bytes,
                                                      Clock::now() + options_.header_timeout);
          watch(EPOLL_CTL_ADD, cfd, EPOLLIN | EPOLLRDHUP);
        }
      } else if (auto it = reading.find(fd); it != reading.end()) {
        Connection& c = *it->second;
        char buf[16384];
        ssize_t got;
        bool had_headers = c.reader.headers_complete();
        while ((got = ::read(fd, buf, sizeof buf)) > 0 &&
               c.reader.Feed(buf, static_cast<size_t>(got)) == RequestReader::State::kReading) {
        }
        if (got == 0) {
          c.reader.Eof();
        }
        if (!had_headers && c.reader.headers_complete()) {
          c.deadline = Clock::now() + options_.body_timeout;
        }
        if (c.reader.expects_continue() && !c.continued &&
            c.reader.state() == RequestReader::State::kReading) {
          WriteNow(fd, "HTTP/1.1 100 Continue\r\n\r\n");
          c.continued = true;
        }
        if (c.reader.state() == RequestReader::State::kFailed) {
          close_with(fd, c.reader.error_status(), c.reader.error());
        } else if (c.reader.state() == RequestReader::State::kComplete) {
          ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
          {
            std::lock_guard lock(queue_mu_);
            queue_.push_back(std::move(it->second));
          }
          queue_cv_.notify_one();
          reading.erase(it);
        } else if (got < 0 && errno != EAGAIN && errno != EINTR) {
          reading.erase(it);  // the client is gone
          --open_connections_;
        }
      }
    }
    if (stop) {
      break;
    }
    const auto later = Clock::now();
    std::vector<int> expired;
    for (const auto& [fd, c] : reading) {
      if (c->deadline <= later) expired.push_back(fd);
    }
    for (int fd : expired) {
      const Connection& c = *reading.at(fd);
      close_with(fd, 408,
                 c.reader.headers_complete()
                     ? "request to " + c.reader.path() + ": body not complete within " +
                           std::to_string(options_.body_timeout.count()) + "ms"
                     : "request headers not complete within " +
                           std::to_string(options_.header_timeout.count()) + "ms");
    }
  }
  open_connections_ -= reading.size();
}

void PluginServer::Work() {
  for (;;) {
    std::unique_ptr<Connection> c;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return !queue_.empty() || draining_; });
      if (queue_.empty()) {
        return;
      }
      c = std::move(queue_.front());
      queue_.pop_front();
    }
    const RequestReader& r = c->reader;
    Answered a = Dispatch(r.method(), r.path(), r.body());
    if (a.status != 200) {
      spdlog::warn("{} {}: {} {}", r.method(), r.path(), a.status,
                   nlohmann::json::parse(a.body).value("Err", ""));
    }
    // Blocking from here, but never for longer than the write timeout.
    int fd = c->fd.get();
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    timeval tv{kWriteTimeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string out = Response(a.status, a.body);
    for (size_t done = 0; done < out.size();) {
      ssize_t w = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (w <= 0) {
        if (w < 0 && errno == EINTR) continue;
        break;
      }
      done += static_cast<size_t>(w);
    }
    c.reset();
    --open_connections_;
    Wake();  // a connection slot is free: the loop may accept again
  }
}

}  // namespace helix
