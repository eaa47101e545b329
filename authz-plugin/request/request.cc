#include "authz-plugin/request/request.h"

#include <algorithm>
#include <array>

#include "authz-plugin/request/base64.h"
#include "authz-plugin/request/body_json.h"
#include "authz-plugin/request/request_uri.h"
#include "authz-plugin/request/utf8.h"
#include "common/strings.h"

namespace helix::authz {
namespace {

using nlohmann::json;

// Field names as moby's pkg/authorization/api.go tags them. Note "RequestUri",
// not "RequestURI": the Go field is RequestURI, the JSON tag is not.
constexpr const char* kUser = "User";
constexpr const char* kUserAuthNMethod = "UserAuthNMethod";
constexpr const char* kRequestMethod = "RequestMethod";
constexpr const char* kRequestUri = "RequestUri";
constexpr const char* kRequestBody = "RequestBody";
constexpr const char* kRequestHeaders = "RequestHeaders";
constexpr const char* kResponseStatusCode = "ResponseStatusCode";
constexpr const char* kResponseBody = "ResponseBody";

Error WrongType(std::string_view field, std::string_view expected, const json& value) {
  return InvalidArgument(std::string(field) + ": expected " + std::string(expected) + ", got " +
                         value.type_name());
}

// dockerd marshals with omitempty, so an empty string never arrives: it is
// absent. Absent and null both read as "".
Result<std::string> StringField(const json& doc, const char* field, bool required) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null() ||
      (it->is_string() && it->get_ref<const std::string&>().empty())) {
    if (required) return InvalidArgument(std::string(field) + ": missing");
    return std::string();
  }
  if (!it->is_string()) return WrongType(field, "a string", *it);
  return it->get<std::string>();
}

// A Go []byte: base64 in JSON, absent (omitempty) or null when there is none.
Result<std::optional<std::string>> BytesField(const json& doc, const char* field) {
  auto it = doc.find(field);
  if (it == doc.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return WrongType(field, "a base64 string", *it);
  auto bytes = DecodeBase64(it->get_ref<const std::string&>());
  if (!bytes) return InvalidArgument(std::string(field) + ": invalid base64");
  return std::optional<std::string>(std::move(*bytes));
}

Result<std::map<std::string, std::string>> HeadersField(const json& doc) {
  std::map<std::string, std::string> out;
  auto it = doc.find(kRequestHeaders);
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_object()) return WrongType(kRequestHeaders, "an object", *it);
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) {
      return WrongType(std::string(kRequestHeaders) + "[" + QuoteEscaped(name) + "]", "a string",
                       value);
    }
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

Result<int> StatusField(const json& doc) {
  auto it = doc.find(kResponseStatusCode);
  if (it == doc.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) return WrongType(kResponseStatusCode, "an integer", *it);
  if (*it < 0 || *it > 999) {
    return InvalidArgument(std::string(kResponseStatusCode) + ": " + it->dump() +
                           " is not an HTTP status code");
  }
  return it->get<int>();
}

// The methods dockerd's router registers routes for; gorilla/mux compares
// them case-sensitively, so "get" reaches no route either.
constexpr std::array<std::string_view, 6> kMethods = {"GET", "HEAD",   "POST",
                                                      "PUT", "DELETE", "OPTIONS"};

// dockerd flattens Go's r.Header, whose keys are canonical ("Content-Type");
// two spellings of one name mean the map did not come from there.
Result<std::map<std::string, std::string>> HeadersByLowerName(
    const std::map<std::string, std::string>& headers) {
  std::map<std::string, std::string> names;  // lower-case name -> name as sent
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    auto [it, fresh] = names.emplace(Lower(name), name);
    if (!fresh) {
      return InvalidArgument(std::string(kRequestHeaders) + ": " + QuoteEscaped(it->second) +
                             " and " + QuoteEscaped(name) + " name the same header");
    }
    out.emplace(it->first, value);
  }
  return out;
}

// The media type of a Content-Type value the way Go's mime.ParseMediaType
// reads it: before the first ';', trimmed, lower case. Go trims Unicode white
// space and folds Unicode case there, so a value that is not printable ASCII
// is refused rather than read: "\u00a0application/x-www-form-urlencoded" is
// a form to Go.
Result<std::string> MediaType(const std::string& value) {
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c >= 0x7f) {
      return InvalidArgument(std::string(kRequestHeaders) +
                             "[\"Content-Type\"]: " + QuoteEscaped(value) +
                             " is refused: only printable ASCII is read the same way by Go");
    }
  }
  std::string_view media = value;
  media = media.substr(0, media.find(';'));
  const size_t first = media.find_first_not_of(" \t");
  media = first == std::string_view::npos ? "" : media.substr(first);
  media = media.substr(0, media.find_last_not_of(" \t") + 1);
  return Lower(media);
}

// Go's Request.ParseForm reads an application/x-www-form-urlencoded body of a
// POST, PUT or PATCH into r.Form ahead of the query, and FormValue (which
// dockerd's BoolValue and others call) parses multipart/form-data bodies too.
// dockerd forwards neither body to plugins, so the policy would judge query
// parameters that the handler never reads. No Docker client sends these.
// (A form type hidden behind a second Content-Type header is the framing
// rules' business: framing.h.)
Result<std::string> CheckContentType(const std::map<std::string, std::string>& lower_headers) {
  auto it = lower_headers.find("content-type");
  if (it == lower_headers.end()) return std::string();
  auto type = MediaType(it->second);
  if (!type.ok()) return type.error();
  if (*type == "application/x-www-form-urlencoded" || *type == "multipart/form-data") {
    return InvalidArgument(std::string(kRequestHeaders) +
                           "[\"Content-Type\"]: " + QuoteEscaped(it->second) +
                           " is refused: Go would read form fields from the body over the query");
  }
  return type;
}

// Go's net/http removes Transfer-Encoding from r.Header when it reads a
// chunked body (and refuses any other transfer coding), and deletes
// Content-Length then too (verified on dockerd 20.10.24: a request with both
// headers shows neither): moby's authz middleware, which flattens r.Header,
// forwards no trace of a chunked body. A Content-Length the plugin sees is
// therefore the body's real length. Transfer-Encoding still counts as a
// declared body in case a proxy or a later Go keeps it.
Result<std::optional<uint64_t>> ContentLength(
    const std::map<std::string, std::string>& lower_headers) {
  auto it = lower_headers.find("content-length");
  if (it == lower_headers.end()) return std::optional<uint64_t>();
  const std::string& value = it->second;
  uint64_t length = 0;
  const bool digits =
      !value.empty() && value.size() <= 19 &&
      std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    return InvalidArgument(std::string(kRequestHeaders) +
                           "[\"Content-Length\"]: " + QuoteEscaped(value) + " is not a length");
  }
  for (char c : value) length = length * 10 + static_cast<uint64_t>(c - '0');
  return std::optional<uint64_t>(length);
}

}  // namespace

Result<AuthzRequest> ParseAuthzRequest(std::string_view document) {
  const json doc = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("authorization request is not valid JSON");
  return ReadAuthzRequest(doc);
}

Result<AuthzRequest> ReadAuthzRequest(const json& doc) {
  if (!doc.is_object()) return WrongType("authorization request", "an object", doc);

  AuthzRequest out;
  auto user = StringField(doc, kUser, false);
  if (!user.ok()) return user.error();
  out.user = std::move(*user);
  auto authn = StringField(doc, kUserAuthNMethod, false);
  if (!authn.ok()) return authn.error();
  out.user_authn_method = std::move(*authn);
  auto method = StringField(doc, kRequestMethod, true);
  if (!method.ok()) return method.error();
  out.method = std::move(*method);
  auto uri = StringField(doc, kRequestUri, true);
  if (!uri.ok()) return uri.error();
  out.uri = std::move(*uri);
  auto headers = HeadersField(doc);
  if (!headers.ok()) return headers.error();
  out.headers = std::move(*headers);
  auto body = BytesField(doc, kRequestBody);
  if (!body.ok()) return body.error();
  out.body = std::move(*body);
  auto status = StatusField(doc);
  if (!status.ok()) return status.error();
  out.response_status = *status;
  auto response_body = BytesField(doc, kResponseBody);
  if (!response_body.ok()) return response_body.error();
  out.response_body = std::move(*response_body);
  return out;
}

Result<NormalizedRequest> Normalize(const AuthzRequest& request) {
  NormalizedRequest out;
  out.user = request.user;
  if (std::find(kMethods.begin(), kMethods.end(), request.method) == kMethods.end()) {
    return InvalidArgument(std::string(kRequestMethod) + " " + QuoteEscaped(request.method) +
                           " is not one of GET, HEAD, POST, PUT, DELETE, OPTIONS");
  }
  out.method = request.method;

  auto lower_headers = HeadersByLowerName(request.headers);
  if (!lower_headers.ok()) return lower_headers.error();
  auto content_type = CheckContentType(*lower_headers);
  if (!content_type.ok()) return content_type.error();
  out.content_type = std::move(*content_type);

  auto target = NormalizeRequestUri(request.uri);
  if (!target.ok()) return target.error();
  out.path = std::move(target->path);
  out.api_version = std::move(target->api_version);
  out.query = std::move(target->query);

  auto length = ContentLength(*lower_headers);
  if (!length.ok()) return length.error();
  out.content_length = *length;
  out.body_declared = lower_headers->count("transfer-encoding") != 0 ||
                      (request.body && !request.body->empty()) ||
                      (out.content_length && *out.content_length > 0);

  // A body of only whitespace is what Go's decoder reads as io.EOF, the same
  // as no body at all; some dockerd handlers then go on with defaults.
  if (request.body && request.body->find_first_not_of(" \t\r\n") != std::string::npos) {
    auto body = ReadBodyJson(*request.body, kRequestBody);
    if (!body.ok()) return body.error();
    out.body = std::move(*body);
  }
  out.headers = request.headers;
  return out;
}

}  // namespace helix::authz
