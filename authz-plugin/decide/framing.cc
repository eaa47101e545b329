// Request framing: what the body and its headers may look like, by what
// dockerd's handler reads (Route::body). The class of bypass this closes is
// a request that dockerd and helixauthz read differently:
//
//  * dockerd's handlers read most parameters through Go's form parsing
//    (httputils.ParseForm, BoolValue), which reads an
//    application/x-www-form-urlencoded *body* of a POST or PUT ahead of the
//    query, and which dockerd never forwards to plugins (it forwards JSON
//    bodies only). `stdin=1` in such a body attaches stdin to a container
//    whose query said nothing of it.
//  * The plugin sees dockerd's flattened copy of the headers, which keeps the
//    *last* value of a repeated header; Go's handlers read the *first*. Two
//    Content-Type headers (a form type first, text/plain last) show the
//    plugin an innocent type.
//  * A chunked body leaves no trace at all: Go deletes Transfer-Encoding and
//    Content-Length from the headers it hands on (verified on dockerd
//    20.10.24), and dockerd forwards no body of unknown length.
//
// So the rules rest on what the plugin can know for certain, never on the
// Content-Type alone: a Content-Length the plugin sees is the body's real
// length (Go deleted it otherwise), so a POST or PUT that shows
// "Content-Length: 0" provably has no body and no form in it, and every
// Docker client sends exactly that on a bodiless POST (the Go CLI since
// forever, docker-py through requests).
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/routes.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

// What Docker's own clients send on requests without a body: nothing, or
// text/plain (the 20.10 CLI on every bodiless POST, and every CLI on
// attach). With no body, the type is moot; anything else is refused so that
// no other reading of a body can start.
bool HarmlessWithoutBody(const std::string& type) {
  return type.empty() || type == "text/plain" || type == "application/json";
}

}  // namespace

Denial CheckFraming(const Route& route, const NormalizedRequest& req) {
  const std::string where = req.method + " " + req.path;
  const bool can_carry_form = req.method == "POST" || req.method == "PUT";
  switch (route.body) {
    case Body::kNone:
      if (req.body_declared || req.body) {
        return Deny("framing", where,
                    "a request body is not allowed (this endpoint reads none, and Go could read "
                    "form fields from it)");
      }
      if (can_carry_form && !req.content_length) {
        return Deny("framing", where,
                    "Content-Length is missing: a chunked body, which the engine does not show "
                    "to plugins, could carry form fields (send \"Content-Length: 0\")");
      }
      if (!HarmlessWithoutBody(req.content_type)) {
        return Deny("framing", where,
                    "Content-Type " + Quote(req.content_type) +
                        " is not allowed without a body (none, text/plain or application/json)");
      }
      return std::nullopt;
    case Body::kJson:
    case Body::kJsonOptional:
      if (req.body && req.content_type != "application/json") {
        return Deny("framing", where,
                    "Content-Type " + Quote(req.content_type) +
                        " is not allowed: the body must be application/json");
      }
      if (!req.body && req.body_declared) {
        return Deny("body", where,
                    "request body is missing (the engine did not forward it: chunked, too large "
                    "or not JSON)");
      }
      if (!req.body && !HarmlessWithoutBody(req.content_type)) {
        return Deny("framing", where,
                    "Content-Type " + Quote(req.content_type) +
                        " is not allowed without a body (none, text/plain or application/json)");
      }
      if (route.body == Body::kJsonOptional) return std::nullopt;
      if (!req.body) {
        return Deny("body", where,
                    "request body is missing (the engine did not forward it: chunked, too large "
                    "or not JSON)");
      }
      if (!req.body->is_object()) return Deny("body", where, "request body is not a JSON object");
      return std::nullopt;
    case Body::kStream:
      // The decision does not depend on the bytes or on form fields (form
      // types were refused when the request was read).
      return std::nullopt;
  }
  return Deny("framing", where, "unknown body kind");
}

}  // namespace helix::authz
