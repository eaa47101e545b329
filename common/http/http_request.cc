#include "common/http/http_request.h"

#include <strings.h>

#include "common/size.h"

namespace helix {
namespace {

RequestReader* Self(http_parser* p) { return static_cast<RequestReader*>(p->data); }

}  // namespace

RequestReader::RequestReader(size_t max_body_bytes) : max_body_(max_body_bytes) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_url = &RequestReader::OnUrl;
  settings_.on_header_field = &RequestReader::OnHeaderField;
  settings_.on_header_value = &RequestReader::OnHeaderValue;
  settings_.on_headers_complete = &RequestReader::OnHeadersComplete;
  settings_.on_body = &RequestReader::OnBody;
  settings_.on_message_complete = &RequestReader::OnMessageComplete;
}

RequestReader::State RequestReader::Feed(const char* data, size_t size) {
  if (state_ != State::kReading || size == 0) {
    return state_;
  }
  http_parser_execute(&parser_, &settings_, data, size);
  auto err = static_cast<http_errno>(parser_.http_errno);
  if (state_ == State::kReading && err != HPE_OK) {
    if (err == HPE_HEADER_OVERFLOW) {
      Fail(431, "request headers are over " + FormatSize(HTTP_MAX_HEADER_SIZE));
    } else {
      Fail(400, std::string("malformed HTTP request: ") + http_errno_description(err));
    }
  }
  return state_;
}

RequestReader::State RequestReader::Eof() {
  if (state_ == State::kReading) {
    // Tells the parser, which completes a request whose body runs to EOF.
    http_parser_execute(&parser_, &settings_, nullptr, 0);
    if (state_ == State::kReading) {
      Fail(400, "the client closed the connection before the request was complete");
    }
  }
  return state_;
}

void RequestReader::Fail(int status, std::string why) {
  state_ = State::kFailed;
  error_status_ = status;
  error_ = std::move(why);
}

std::string RequestReader::TooLarge(const std::string& size) const {
  return "request to " + path_ + ": body of " + size + " is over the limit of " +
         FormatSize(max_body_);
}

int RequestReader::OnUrl(http_parser* p, const char* at, size_t len) {
  Self(p)->url_.append(at, len);
  return 0;
}

int RequestReader::OnHeaderField(http_parser* p, const char* at, size_t len) {
  RequestReader* r = Self(p);
  if (!r->header_value_.empty()) {  // a new header starts
    r->header_field_.clear();
    r->header_value_.clear();
  }
  r->header_field_.append(at, len);
  return 0;
}

int RequestReader::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  RequestReader* r = Self(p);
  r->header_value_.append(at, len);
  if (::strcasecmp(r->header_field_.c_str(), "Expect") == 0 &&
      ::strcasecmp(r->header_value_.c_str(), "100-continue") == 0) {
    r->expect_continue_ = true;
  }
  return 0;
}

int RequestReader::OnHeadersComplete(http_parser* p) {
  RequestReader* r = Self(p);
  r->headers_complete_ = true;
  r->method_ = http_method_str(static_cast<http_method>(p->method));
  r->path_ = r->url_.substr(0, r->url_.find('?'));
  // Refused before a byte of it is read: a 200 MB body is never buffered.
  if ((p->flags & F_CONTENTLENGTH) != 0 && p->content_length > r->max_body_) {
    r->Fail(413, r->TooLarge(std::to_string(p->content_length) + " bytes"));
    return -1;
  }
  return 0;
}

int RequestReader::OnBody(http_parser* p, const char* at, size_t len) {
  RequestReader* r = Self(p);
  if (r->body_.size() + len > r->max_body_) {  // chunked: no length up front
    r->Fail(413, r->TooLarge("more than " + FormatSize(r->max_body_)));
    return -1;
  }
  r->body_.append(at, len);
  return 0;
}

int RequestReader::OnMessageComplete(http_parser* p) {
  Self(p)->state_ = State::kComplete;
  http_parser_pause(p, 1);  // one request per connection: ignore what follows
  return 0;
}

}  // namespace helix
