// Reading one HTTP/1.1 request off a connection, a piece at a time, with
// Node's http_parser (Debian's libhttp-parser): the plugin server feeds it
// whatever bytes have arrived and learns when the request is complete, or
// why it never will be. It holds the body only up to a limit, and refuses a
// larger one as soon as its Content-Length says so, before reading it.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>

namespace helix {

class RequestReader {
 public:
  explicit RequestReader(size_t max_body_bytes);
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  enum class State { kReading, kComplete, kFailed };

  // Takes the next bytes of the connection. Bytes after a complete request
  // are ignored (one request per connection).
  State Feed(const char* data, size_t size);
  // The client closed its side: a request not complete by now never will be.
  State Eof();

  State state() const { return state_; }
  bool headers_complete() const { return headers_complete_; }
  // The client asked for "100 Continue" before it sends its body.
  bool expects_continue() const { return expect_continue_; }

  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }  // without the query
  const std::string& body() const { return body_; }

  // For kFailed: the HTTP status to answer and why ("malformed HTTP request").
  int error_status() const { return error_status_; }
  const std::string& error() const { return error_; }

 private:
  static int OnUrl(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);
  static int OnMessageComplete(http_parser* p);
  void Fail(int status, std::string why);
  std::string TooLarge(const std::string& size) const;

  size_t max_body_;
  http_parser parser_;
  http_parser_settings settings_;
  State state_ = State::kReading;
  bool headers_complete_ = false;
  bool expect_continue_ = false;
  std::string url_;
  std::string header_field_;  // the header whose value is arriving
  std::string header_value_;
  std::string method_;
  std::string path_;
  std::string body_;
  int error_status_ = 0;
  std::string error_;
};

}  // namespace helix
