// Raw clients of a Unix socket, for tests of how a server treats clients
// that are slow, idle, numerous or send too much: what an HTTP library would
// never do on purpose.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "common/unique_fd.h"

namespace helix::testing {

// A connected socket, or an invalid one with errno set (EAGAIN when the
// server's backlog is full: the connect is non-blocking, as Go's are).
inline UniqueFd ConnectUnix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  REQUIRE(fd.valid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return UniqueFd();
  }
  return fd;
}

inline bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 30'000) <= 0) return false;
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Everything the server sends until it closes, waiting at most `limit`.
inline std::string ReadUntilClosed(int fd, std::chrono::seconds limit = std::chrono::seconds(30)) {
  std::string out;
  auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Whether the server still holds the connection open: nothing to read yet,
// and no end of stream.
inline bool StillOpen(int fd) {
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// The status code and body of a raw HTTP answer ("HTTP/1.1 413 ...").
inline std::pair<int, std::string> StatusAndBody(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0) return {0, answer};
  size_t blank = answer.find("\r\n\r\n");
  return {std::stoi(answer.substr(9, 3)),
          blank == std::string::npos ? "" : answer.substr(blank + 4)};
}

}  // namespace helix::testing
