// What helixauthz decides on: one request as dockerd forwarded it, and the
// same request normalised so that the policy sees exactly what dockerd will
// act on.
//
// Two stages, kept apart so that the policy never touches raw input:
//  1. ParseAuthzRequest() decodes the AuthZReq document dockerd POSTs to the
//     plugin (field names as moby's pkg/authorization/api.go spells them).
//  2. Normalize() turns it into a NormalizedRequest: the target decoded and
//     stripped of its API version prefix, the body read the way dockerd's Go
//     decoder will read it. Anything that could be read two ways is an error,
//     and every error ends in a deny.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace helix::authz {

// The AuthZReq (or AuthZRes) document, decoded but not yet trusted.
struct AuthzRequest {
  std::string user;               // "User": TLS client CN, "" without TLS auth
  std::string user_authn_method;  // "UserAuthNMethod"
  std::string method;             // "RequestMethod": "GET", "POST", ...
  std::string uri;                // "RequestUri": raw, as the client sent it
  // "RequestHeaders": Go's canonical header names ("Content-Type") with the
  // last value of each.
  std::map<std::string, std::string> headers;
  // "RequestBody" after base64 decoding; nullopt when dockerd sent none (it
  // forwards no body for chunked or oversized requests, or non-JSON ones).
  std::optional<std::string> body;
  // AuthZRes only: "ResponseStatusCode" and the decoded "ResponseBody".
  int response_status = 0;
  std::optional<std::string> response_body;
};

// Decodes an AuthZReq/AuthZRes document, from its text or as the plugin
// server already parsed it. Errors name the field ("RequestBody: invalid
// base64").
Result<AuthzRequest> ParseAuthzRequest(std::string_view document);
Result<AuthzRequest> ReadAuthzRequest(const nlohmann::json& document);

// The request the policy decides on.
struct NormalizedRequest {
  std::string user;
  std::string method;  // upper case, one of the methods dockerd routes
  // Percent-decoded path without the "/vX.Y" prefix and without the query:
  // "/containers/create", "/containers/abc/start". Never empty, starts with
  // "/", no "." or ".." segments, no "//", no trailing "/"; valid UTF-8 with
  // no control characters and no "%", "?" or "#" (none may arrive encoded).
  // Compare it case-sensitively, as dockerd's router does.
  std::string path;
  // "1.41" when the URI carried a version prefix, nullopt when it had none
  // (dockerd then uses its own current version).
  std::optional<std::string> api_version;
  // Decoded query parameters; a repeated parameter keeps every value in
  // order (Go's r.Form["x"] is a slice; r.FormValue takes the first).
  // Keys and values are valid UTF-8; they may hold any other character.
  std::multimap<std::string, std::string> query;
  // The JSON body as dockerd's decoder will see it, keys as sent: read
  // struct fields with Member() (request_fields.h), which matches them
  // case-insensitively as Go does; map keys (Labels, Sysctls) are exact.
  // nullopt when the request had no body or one of only whitespace (Go's
  // decoder reads io.EOF for both); the body "null" is a JSON null.
  // Normalize() refuses, rather than guesses at, any body whose keys collide
  // after folding, non-ASCII keys, duplicate keys, invalid UTF-8, invalid
  // JSON or trailing data after the value (see body_json.h).
  std::optional<nlohmann::json> body;
  // The client sent a body (Content-Length > 0, a Transfer-Encoding header,
  // or a non-empty forwarded body), whether or not dockerd forwarded it. A
  // route that takes no body refuses a declared one; a route that needs one
  // refuses body == nullopt. Beware: Go deletes Transfer-Encoding from the
  // headers of a chunked request and it has no Content-Length, so a chunked
  // body that dockerd did not forward leaves no trace at all.
  bool body_declared = false;
  // The Content-Length header as dockerd's view of the headers shows it.
  // Go deletes it when the body is chunked, so a value here means the body
  // has exactly that length; nullopt means no body or a chunked one, which
  // the plugin cannot tell apart (and which Go's form parsing still reads).
  std::optional<uint64_t> content_length;
  // The media type of the Content-Type header the plugin was shown, lower
  // case, without parameters ("application/json"); "" when there is none.
  // dockerd shows the *last* value of a repeated header while Go's handlers
  // read the *first*, so this names one of possibly several types: the
  // framing rules (framing.h) never rely on it alone.
  std::string content_type;
  std::map<std::string, std::string> headers;  // as in AuthzRequest
};

// Also refuses methods dockerd does not route, Content-Length values that
// are not numbers, two spellings of one header name, a Content-Type that is
// not plain printable ASCII (Go trims Unicode spaces and folds Unicode case
// around a media type), and form content types (Go would read form fields
// from a body that dockerd does not forward).
// Errors name the field: `RequestUri "/a%2Fb": ...`, `RequestBody.HostConfig: ...`.
Result<NormalizedRequest> Normalize(const AuthzRequest& request);

}  // namespace helix::authz
