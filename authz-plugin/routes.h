// The route table: every endpoint dockerd 20.10 routes (api/server/router),
// with what helixauthz does about it. The first matching route wins, as in
// dockerd's mux; a request no route matches is refused.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "authz-plugin/checks.h"

namespace helix::authz {

enum class RouteKind {
  kAllow,   // allowed for everyone
  kCheck,   // allowed if `check` finds nothing wrong
  kRefuse,  // refused for everyone, with `why`
};

struct Route {
  const char* method;   // "GET", ...; "*" for any
  const char* pattern;  // "/containers/{name}/json"; "{x*}" spans segments
  const char* rule;     // the rule id named in messages and the audit log
  RouteKind kind;
  Denial (*check)(Ctx&) = nullptr;
  bool needs_body = false;  // a JSON object body is required
  const char* why = "";     // for kRefuse
};

const std::vector<Route>& RouteTable();

// Matches `path` against a pattern, filling `params`. "{name}" matches one
// non-empty segment; "{name*}" one or more, as dockerd's "{name:.*}" does
// for image, volume, network and plugin names that contain '/'.
bool MatchRoute(const std::string& pattern, const std::string& path,
                std::map<std::string, std::string>* params);

}  // namespace helix::authz
