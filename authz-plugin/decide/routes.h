// The route table: every endpoint dockerd 20.10 routes (api/server/router),
// with what helixauthz does about it. The first matching route wins, as in
// dockerd's mux; a request no route matches is refused.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "authz-plugin/decide/checks.h"

namespace helix::authz {

enum class RouteKind {
  kAllow,   // allowed for everyone
  kCheck,   // allowed if `check` finds nothing wrong
  kRefuse,  // refused for everyone, with `why`
};

// What dockerd's handler reads from the request body; the framing rules
// (framing.cc) follow from it.
enum class Body {
  kNone,          // nothing: the body must provably be empty
  kJson,          // a JSON object, required (and so forwarded to the plugin)
  kJsonOptional,  // a JSON object if any; the decision does not depend on it
  kStream,        // raw bytes (a tar archive); the decision does not depend on them
};

struct Route {
  const char* method;   // "GET", ...; "*" for any
  const char* pattern;  // "/containers/{name}/json"; "{x*}" spans segments
  const char* rule;     // the rule id named in messages and the audit log
  RouteKind kind;
  Denial (*check)(Ctx&) = nullptr;
  Body body = Body::kNone;
  const char* why = "";  // for kRefuse
};

const std::vector<Route>& RouteTable();

// Matches `path` against a pattern, filling `params`. "{name}" matches one
// non-empty segment; "{name*}" one or more, as dockerd's "{name:.*}" does
// for image, volume, network and plugin names that contain '/'.
bool MatchRoute(const std::string& pattern, const std::string& path,
                std::map<std::string, std::string>* params);

}  // namespace helix::authz
