#include "common/http/docker_client.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace helix {
namespace {

using nlohmann::json;

httplib::Client Connect(const std::string& socket_path, int timeout_seconds) {
  httplib::Client client(socket_path, 80);
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(std::min(timeout_seconds, 10));
  client.set_read_timeout(timeout_seconds);
  client.set_write_timeout(timeout_seconds);
  // httplib would send the socket path as Host, which Go's server refuses.
  client.set_default_headers({{"Host", "docker"}});
  return client;
}

// The engine's own words for a failed call: {"message": "..."} when it sent
// JSON, else the raw body.
std::string EngineMessage(const std::string& body) {
  try {
    json answer = json::parse(body);
    if (answer.is_object() && answer.contains("message") && answer["message"].is_string()) {
      return answer["message"].get<std::string>();
    }
  } catch (const json::parse_error&) {
  }
  std::string text = body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Error StatusError(int status, const std::string& what, const std::string& body) {
  std::string message = what + ": " + EngineMessage(body);
  if (status == 404) return NotFound(message);
  if (status == 409) return AlreadyExists(message);
  if (status == 400) return InvalidArgument(message);
  return Error(ErrorKind::kSystem, message + " (HTTP " + std::to_string(status) + ")");
}

// Percent-escapes every byte but ASCII letters, digits and `keep`.
std::string PercentEscape(std::string_view value, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Error TransportError(const std::string& what, httplib::Error error) {
  return Error(ErrorKind::kSystem, what + ": " + httplib::to_string(error));
}

}  // namespace

DockerClient::DockerClient(std::string socket_path, std::string api_version, int timeout_seconds)
    : socket_path_(std::move(socket_path)),
      api_version_(std::move(api_version)),
      timeout_seconds_(timeout_seconds) {}

Result<std::string> DockerClient::SocketFromHost(std::string_view host) {
  constexpr std::string_view kUnix = "unix://";
  std::string_view path = host;
  if (host.substr(0, kUnix.size()) == kUnix) path = host.substr(kUnix.size());
  if (path.empty() || path.front() != '/') {
    return InvalidArgument("engine address \"" + std::string(host) +
                           "\" is not a Unix socket (want unix:///path or /path)");
  }
  return std::string(path);
}

std::string DockerClient::QueryEscape(std::string_view value) {
  return PercentEscape(value, "-_.~");
}

std::string DockerClient::PathEscape(std::string_view value) {
  return PercentEscape(value, "-_.~/:@");
}

std::string DockerClient::Versioned(const std::string& path) const {
  return "/v" + api_version_ + path;
}

Result<json> DockerClient::Get(const std::string& path) const {
  auto client = Connect(socket_path_, timeout_seconds_);
  const std::string what = "GET " + path;
  auto res = client.Get(Versioned(path));
  if (!res) return TransportError(what + " on " + socket_path_, res.error());
  if (res->status / 100 != 2) return StatusError(res->status, what, res->body);
  try {
    return json::parse(res->body);
  } catch (const json::parse_error& e) {
    return Error(ErrorKind::kSystem, what + ": the engine answered with invalid JSON");
  }
}

Result<json> DockerClient::Post(const std::string& path, const json& body) const {
  auto client = Connect(socket_path_, timeout_seconds_);
  const std::string what = "POST " + path;
  auto res = body.is_null() ? client.Post(Versioned(path))
                            : client.Post(Versioned(path), body.dump(), "application/json");
  if (!res) return TransportError(what + " on " + socket_path_, res.error());
  if (res->status / 100 != 2) return StatusError(res->status, what, res->body);
  if (res->body.empty()) return json::object();
  try {
    return json::parse(res->body);
  } catch (const json::parse_error&) {
    return Error(ErrorKind::kSystem, what + ": the engine answered with invalid JSON");
  }
}

Status DockerClient::Delete(const std::string& path) const {
  auto client = Connect(socket_path_, timeout_seconds_);
  const std::string what = "DELETE " + path;
  auto res = client.Delete(Versioned(path));
  if (!res) return TransportError(what + " on " + socket_path_, res.error());
  if (res->status / 100 != 2) return StatusError(res->status, what, res->body);
  return Ok();
}

Status DockerClient::GetStream(const std::string& path, const Sink& sink) const {
  auto client = Connect(socket_path_, timeout_seconds_);
  const std::string what = "GET " + path;
  std::string error_body;
  int status = 0;
  auto res = client.Get(
      Versioned(path),
      [&](const httplib::Response& r) {
        status = r.status;
        return true;
      },
      [&](const char* data, size_t size) {
        if (status / 100 != 2) {
          error_body.append(data, size);  // the engine's error message
          return true;
        }
        return sink(data, size);
      });
  if (status != 0 && status / 100 != 2) return StatusError(status, what, error_body);
  if (!res) {
    if (res.error() == httplib::Error::Canceled) {
      return Error(ErrorKind::kSystem, what + ": cancelled");
    }
    return TransportError(what + " on " + socket_path_, res.error());
  }
  return Ok();
}

Result<UniqueFd> DockerClient::Hijack(const std::string& path) const {
  const std::string what = "POST " + path;
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return HELIX_SYS_ERROR("socket for " + what);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path)) {
    return InvalidArgument("socket path \"" + socket_path_ + "\" is too long");
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return HELIX_SYS_ERROR("connect to " + socket_path_);
  }
  const std::string request = "POST " + Versioned(path) +
                              " HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                              "Upgrade: tcp\r\nContent-Length: 0\r\n\r\n";
  for (size_t done = 0; done < request.size();) {
    ssize_t n = ::write(fd.get(), request.data() + done, request.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return HELIX_SYS_ERROR("send " + what);
    done += static_cast<size_t>(n);
  }
  // Read the answer's head one byte at a time: after it, the connection is
  // the container's raw stream and nothing of it may be consumed here.
  std::string head;
  while (head.size() < 16384 && head.find("\r\n\r\n") == std::string::npos) {
    char c;
    ssize_t n = ::read(fd.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return HELIX_SYS_ERROR("read the answer to " + what);
    if (n == 0) break;
    head += c;
  }
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) {
    return Error(ErrorKind::kSystem, what + ": not an HTTP answer");
  }
  if (status == 101 || status == 200) return fd;
  // An error answer: its body is the message. The engine keeps the
  // connection open after it, so read Content-Length bytes, and never wait
  // long for a body that does not say its length.
  size_t length = 65536;
  std::string lower = head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
    length = std::min<size_t>(length, std::strtoul(lower.c_str() + at + 17, nullptr, 10));
  }
  timeval timeout{2, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string body;
  char buf[4096];
  while (body.size() < length) {
    ssize_t n = ::read(fd.get(), buf, std::min(sizeof(buf), length - body.size()));
    if (n <= 0) break;
    body.append(buf, static_cast<size_t>(n));
  }
  return StatusError(status, what, body);
}

}  // namespace helix
