#include "authz-plugin/decide/policy_engine.h"

#include <algorithm>

#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "authz-plugin/decide/routes.h"
#include "authz-plugin/engine/request_lookups.h"
#include "common/quote.h"

namespace helix::authz {

Decision Deny(const std::string& rule, const std::string& field, const std::string& text) {
  return Decision{false, rule, "helixauthz: " + field + ": " + text + " (rule " + rule + ")"};
}

Decision BadBody(const Error& error) {
  return Decision{false, "body", "helixauthz: " + error.message() + " (rule body)"};
}

Decision Ctx::DenyDesktop(const std::string& rule, const std::string& field,
                          const std::string& text) const {
  const std::string shape = desktop != nullptr ? desktop->name : "privileged";
  return Deny(shape + "." + rule, field, text + "; " + desktop_because);
}

Decision Ctx::DenyBecause(const std::string& rule, const std::string& field,
                          const std::string& text) const {
  return Deny(rule, field, text + "; " + desktop_because);
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool IsHelixvolDriver(const Rules& rules, const std::string& driver) {
  return SamePlugin(rules.helixvol.drivers, driver);
}

Denial CheckPluginName(const std::string& name, const std::string& field, const char* what) {
  if (name.empty() || CleanPluginName(name)) return std::nullopt;
  return Deny("plugin_names", field,
              std::string(what) + " " + Quote(name) +
                  " is not a plain plugin name (lower-case name[:tag], no \".\" or \"..\" "
                  "segments, not an ID prefix)");
}

Denial CheckImageManagement(Ctx& c) {
  if (c.rules.image_management) return std::nullopt;
  // Build, commit, import, load, pull and tag can each put any content under
  // any name; the privileged image check resolves names at decision time,
  // so these must not run concurrently with it for untrusted callers.
  return Deny("image_management", c.req.method + " " + c.req.path,
              "image management is not allowed for user " + Quote(c.req.user));
}

Decision Decide(const Policy& policy, const NormalizedRequest& request, EngineView& engine,
                const EngineFacts& facts) {
  const std::string route = request.method + " " + request.path;
  if (request.api_version) {
    auto cmp = CompareApiVersions(*request.api_version, policy.min_api_version);
    if (!cmp || *cmp < 0) {
      return Deny("min_api_version", route,
                  "API version " + Quote(*request.api_version) + " is below the policy minimum " +
                      Quote(policy.min_api_version));
    }
  }
  for (const Route& r : RouteTable()) {
    std::map<std::string, std::string> params;
    if ((std::string(r.method) != "*" && r.method != request.method) ||
        !MatchRoute(r.pattern, request.path, &params)) {
      continue;
    }
    if (r.kind == RouteKind::kRefuse) {
      return Deny(r.rule, route, std::string("endpoint is refused: ") + r.why);
    }
    if (auto denial = CheckFraming(r, request)) return *denial;
    if (r.kind == RouteKind::kCheck) {
      RequestLookups lookups(engine);
      Ctx ctx{policy,
              policy.RulesFor(request.user),
              request,
              lookups,
              std::move(params),
              facts,
              nullptr,
              ""};
      if (auto denial = r.check(ctx)) return *denial;
    }
    return Decision{true, r.rule, "helixauthz: " + route + ": allowed (rule " + r.rule + ")"};
  }
  return Deny("routes", route, "endpoint is not in the route table");
}

Decision DecideResponse(const Policy&, const NormalizedRequest& request) {
  return Decision{true, "response",
                  "helixauthz: " + request.method + " " + request.path +
                      ": responses are always allowed (rule response)"};
}

}  // namespace helix::authz
