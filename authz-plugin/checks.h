// Internal to the decision engine: what the per-area check files share.
// A check returns a Denial: nullopt when the request passes it, else the
// deny decision with its message.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "authz-plugin/engine_view.h"
#include "authz-plugin/policy.h"
#include "authz-plugin/policy_engine.h"
#include "authz-plugin/request.h"

namespace helix::authz {

using Denial = std::optional<Decision>;

// "helixauthz: <field>: <text> (rule <rule>)". `field` may be a route
// ("POST /plugins/x/enable") when the endpoint itself is refused.
Decision Deny(const std::string& rule, const std::string& field, const std::string& text);
// A body Go's decoder would refuse, or one the checks cannot read.
Decision BadBody(const Error& error);

// Everything one decision looks at.
struct Ctx {
  const Policy& policy;
  const Rules& rules;
  const NormalizedRequest& req;
  EngineView& engine;
  std::map<std::string, std::string> params;  // path parameters: "name", "id"
  // Set while judging a privileged request: why it counts as privileged
  // ("the request is privileged because of HostConfig.CapAdd[0] \"ALL\""),
  // appended to the privileged rules' messages so that a refused desktop
  // says what made it one.
  std::string privileged_because;

  const nlohmann::json& Body() const { return *req.body; }
  // A deny under a "privileged.*" rule, followed by privileged_because.
  Decision DenyPrivileged(const std::string& rule, const std::string& field,
                          const std::string& text) const;
};

#define AUTHZ_TRY(expr)                \
  do {                                 \
    if (auto authz_denial_ = (expr)) { \
      return authz_denial_;            \
    }                                  \
  } while (0)

// Declares `var` from a Result-returning read, denying on error.
#define AUTHZ_GET(var, expr)               \
  auto var##_result_ = (expr);             \
  if (!var##_result_.ok()) {               \
    return BadBody(var##_result_.error()); \
  }                                        \
  auto var = std::move(*var##_result_)

bool Contains(const std::vector<std::string>& list, const std::string& value);
bool IsHelixvolDriver(const Rules& rules, const std::string& driver);

// Why `host_config` (keys folded to lower case) makes a container
// privileged-equivalent under `rules`: the first field beyond the ordinary
// allowlists, e.g. "HostConfig.CapAdd[0] \"ALL\"". nullopt for an ordinary
// container. Used for create requests and for existing containers alike.
Result<std::optional<std::string>> PrivilegeReason(const Rules& rules,
                                                   const nlohmann::json& host_config);

// Why an existing container is off limits to exec, archive and friends:
// privileged-equivalent, or holding a helixvol volume (a data root).
std::optional<std::string> ProtectedReason(const Rules& rules, const ContainerInfo& info);

// Resolves `ref` through the engine; a deny naming `field` when that fails.
Denial ResolveContainer(Ctx& c, const std::string& ref, const std::string& field,
                        ContainerInfo* out);

// Route checks, one per endpoint that has any (routes.cc maps them).
Denial CheckContainerCreate(Ctx& c);
// desktop_shape.cc: the allowed image; the labels and limits a desktop
// must carry.
Denial CheckDesktopImage(Ctx& c);
Denial CheckDesktopShape(Ctx& c, const nlohmann::json& host_config);
// Limits an update may set on a privileged container.
Denial CheckDesktopLimitUpdate(Ctx& c, const nlohmann::json& resources);
Denial CheckMounts(Ctx& c, const nlohmann::json& host_config, bool privileged);
Denial CheckVolumeCreate(Ctx& c);
Denial CheckHelixvolOptions(Ctx& c, const std::map<std::string, std::string>& options,
                            const std::string& field);
Denial CheckStart(Ctx& c);
Denial CheckExecCreate(Ctx& c);
Denial CheckAttach(Ctx& c);
Denial CheckAttachWebsocket(Ctx& c);
Denial CheckReadsFiles(Ctx& c);  // export, archive GET/HEAD
Denial CheckArchiveUpload(Ctx& c);
Denial CheckLogs(Ctx& c);
Denial CheckUpdate(Ctx& c);
Denial CheckRename(Ctx& c);
Denial CheckNetworkCreate(Ctx& c);
Denial CheckNetworkConnect(Ctx& c);
Denial CheckImageManagement(Ctx& c);

}  // namespace helix::authz
