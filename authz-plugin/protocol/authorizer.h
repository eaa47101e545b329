// Authorizer: an AuthZReq/AuthZRes document in, the plugin's answer out.
// The one path both `helixauthz serve` and `helixauthz check` take, so that
// a policy tested with check decides exactly as the running plugin will.
//
// Every failure on the way (a document that does not parse, a URI or body
// that cannot be read one way only, an engine lookup that fails, an
// exception) ends in {"Allow": false, "Msg": ...}: never in "Err", which
// dockerd would treat as allowed next to Allow: true, and never in a
// half-made answer.
#pragma once

#include <cstdio>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

#include "authz-plugin/decide/policy_engine.h"
#include "authz-plugin/engine/engine_view.h"
#include "authz-plugin/policy/policy_store.h"
#include "common/http/plugin_server.h"

namespace helix::authz {

// One JSON line per decision on `out`: every deny, and allows when asked.
class AuditLog {
 public:
  AuditLog(std::FILE* out, bool log_allows) : out_(out), log_allows_(log_allows) {}
  void Record(const AuthzRequest* request, const Decision& decision);

 private:
  std::mutex mu_;
  std::FILE* out_;  // guarded by mu_
  const bool log_allows_;
};

class Authorizer {
 public:
  Authorizer(PolicyStore& policies, EngineView& engine, AuditLog& audit)
      : policies_(policies), engine_(engine), audit_(audit) {}

  // The answer to /AuthZPlugin.AuthZReq for `document` (dockerd's JSON, as
  // text, or as the plugin server already parsed it).
  Decision DecideRequest(std::string_view document);
  Decision DecideRequestDocument(const nlohmann::json& document);
  // The answer to /AuthZPlugin.AuthZRes: responses are allowed (the checks
  // happened on the request), but one that does not parse is not.
  Decision DecideResponse(const nlohmann::json& document);

  // {"Allow": ..., "Msg": ...} for a decision.
  static nlohmann::json Answer(const Decision& decision);

  // Asks the engine what decisions depend on (GET /info: user namespaces)
  // and keeps the answer for the decisions that follow; on failure the last
  // answer is kept, and one never had stays unknown. Returns what it got,
  // for the log. Call it at start, after a policy reload, and now and then.
  Result<EngineFacts> RefreshFacts();
  EngineFacts Facts() const;

 private:
  // Decides on what `parse` reads; every failure on the way is a deny.
  Decision DecideParsed(const std::function<Result<AuthzRequest>()>& parse);

  PolicyStore& policies_;
  EngineView& engine_;
  AuditLog& audit_;
  mutable std::mutex facts_mu_;
  EngineFacts facts_;  // guarded by facts_mu_
};

// Routes /AuthZPlugin.AuthZReq and /AuthZPlugin.AuthZRes to `authorizer`.
void RegisterAuthz(PluginServer& server, Authorizer& authorizer);

}  // namespace helix::authz
