#include "authz-plugin/protocol/authorizer.h"

#include <chrono>
#include <exception>

namespace helix::authz {
namespace {

using nlohmann::json;

Decision Deny(std::string rule, std::string message) {
  return {false, std::move(rule), "helixauthz: " + std::move(message)};
}

std::string Now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  char buf[40];
  std::tm tm;
  gmtime_r(&secs, &tm);
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

void AuditLog::Record(const AuthzRequest* request, const Decision& decision) {
  if (decision.allow && !log_allows_) return;
  json line = {{"time", Now()},
               {"decision", decision.allow ? "allow" : "deny"},
               {"rule", decision.rule},
               {"msg", decision.message}};
  if (request) {
    line["user"] = request->user;
    line["method"] = request->method;
    line["uri"] = request->uri;
  }
  // Replacement, not an exception, for bytes a client sent that are not UTF-8.
  std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
  std::lock_guard lock(mu_);
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

Decision Authorizer::DecideRequest(std::string_view document) {
  return DecideParsed([&] { return ParseAuthzRequest(document); });
}

Decision Authorizer::DecideRequestDocument(const json& document) {
  return DecideParsed([&] { return ReadAuthzRequest(document); });
}

Decision Authorizer::DecideParsed(const std::function<Result<AuthzRequest>()>& parse) {
  std::optional<AuthzRequest> parsed;
  Decision decision;
  try {
    auto request = parse();
    if (!request.ok()) {
      decision = Deny("request", "request: " + request.error().message());
    } else {
      parsed = std::move(*request);
      auto normalized = Normalize(*parsed);
      if (!normalized.ok()) {
        decision = Deny("request", normalized.error().message());
      } else {
        decision = Decide(*policies_.Current(), *normalized, engine_, Facts());
      }
    }
  } catch (const std::exception& e) {
    decision = Deny("internal", std::string("internal error, refusing: ") + e.what());
  }
  audit_.Record(parsed ? &*parsed : nullptr, decision);
  return decision;
}

Decision Authorizer::DecideResponse(const json& document) {
  try {
    auto response = ReadAuthzRequest(document);
    if (!response.ok()) return Deny("response", "response: " + response.error().message());
    auto normalized = Normalize(*response);
    if (!normalized.ok()) return Deny("response", normalized.error().message());
    return authz::DecideResponse(*policies_.Current(), *normalized);
  } catch (const std::exception& e) {
    return Deny("internal", std::string("internal error, refusing: ") + e.what());
  }
}

Result<EngineFacts> Authorizer::RefreshFacts() {
  auto facts = engine_.Facts();
  std::lock_guard lock(facts_mu_);
  if (facts.ok()) {
    facts_ = *facts;
  } else if (!facts_.userns) {
    facts_.why = facts.error().message();
  }
  return facts;
}

EngineFacts Authorizer::Facts() const {
  std::lock_guard lock(facts_mu_);
  return facts_;
}

json Authorizer::Answer(const Decision& decision) {
  json answer = {{"Allow", decision.allow}};
  if (!decision.allow) answer["Msg"] = decision.message;
  return answer;
}

void RegisterAuthz(PluginServer& server, Authorizer& authorizer) {
  server.Handle("/AuthZPlugin.AuthZReq", [&authorizer](const json& request) -> Result<json> {
    return Authorizer::Answer(authorizer.DecideRequestDocument(request));
  });
  server.Handle("/AuthZPlugin.AuthZRes", [&authorizer](const json& request) -> Result<json> {
    return Authorizer::Answer(authorizer.DecideResponse(request));
  });
}

}  // namespace helix::authz
