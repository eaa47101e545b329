// Internal to the decision engine: what the per-area check files share.
// A check returns a Denial: nullopt when the request passes it, else the
// deny decision with its message.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "authz-plugin/decide/decision.h"
#include "authz-plugin/docker/docker_values.h"
#include "authz-plugin/docker/plugin_names.h"
#include "authz-plugin/engine/engine_view.h"
#include "authz-plugin/policy/policy.h"
#include "authz-plugin/request/request.h"

namespace helix::authz {

using Denial = std::optional<Decision>;

struct Route;

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
  const EngineFacts& facts;
  // Set while judging a desktop (a request, or an existing container, beyond
  // the ordinary allowlists): its shape (rules.privileged or rules.userns),
  // and why it is one ("the request is privileged because of
  // HostConfig.CapAdd[0] \"ALL\""), appended to the shape's messages so that
  // a refused desktop says what made it one.
  const DesktopRules* desktop = nullptr;
  std::string desktop_because;

  const nlohmann::json& Body() const { return *req.body; }
  // A deny under the desktop shape's rule "<shape>.<rule>", followed by
  // desktop_because.
  Decision DenyDesktop(const std::string& rule, const std::string& field,
                       const std::string& text) const;
  // A deny under `rule` as it is, followed by desktop_because.
  Decision DenyBecause(const std::string& rule, const std::string& field,
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

// A deny naming `field` for a non-empty name that is not clean.
Denial CheckPluginName(const std::string& name, const std::string& field, const char* what);

// privileges.cc: the first capability, security option, device cgroup
// rule, device or device request in `host_config` beyond `allowed`; one walk
// that both tells a desktop request from an ordinary one (against the
// ordinary class) and judges a desktop's powers (against the privileged one).
struct Excess {
  std::string kind;   // the class key: "capabilities", "devices", ...
  std::string field;  // "HostConfig.CapAdd[0]"
  std::string value;  // as asked ("ALL"); "" for device requests
  std::string what;   // "capability", "device", ...
};
Result<std::optional<Excess>> FirstExcess(const ClassRules& allowed,
                                          const nlohmann::json& host_config);

// The desktop shape a HostConfig asks for: nullptr for an ordinary
// container, rules.userns when it stays within that shape's powers (and the
// shape admits images), else rules.privileged; `reason` is the first field
// beyond the ordinary allowlists.
struct Shape {
  const DesktopRules* desktop = nullptr;
  std::string reason;  // "HostConfig.CapAdd[0] \"ALL\""
};
Result<Shape> ShapeOf(const Rules& rules, const nlohmann::json& host_config);

// Why `host_config` (read with Member(), case-insensitively) makes a container
// privileged-equivalent under `rules`: the first field beyond the ordinary
// allowlists, e.g. "HostConfig.CapAdd[0] \"ALL\"". nullopt for an ordinary
// container. Used for create requests and for existing containers alike.
Result<std::optional<std::string>> PrivilegeReason(const Rules& rules,
                                                   const nlohmann::json& host_config);

// protection.cc: why an existing container is off limits to exec, attach,
// archive and friends. `own`: it is a desktop itself (privileged-equivalent,
// or holding a helixvol volume); else it shares a namespace or a volume with
// one. nullopt for an unprotected container; a failed lookup protects.
struct Protection {
  std::string reason;  // "it is privileged (HostConfig.Privileged true)"
  bool own = true;
  // The shape of the desktop it is, or shares with; rules.privileged when
  // that cannot be told (a lookup failed).
  const DesktopRules* shape = nullptr;
};
std::optional<Protection> ProtectionOf(Ctx& c, const ContainerInfo& info);
// Only the container's own reasons: no lookups.
std::optional<Protection> OwnProtection(const Rules& rules, const ContainerInfo& info);
// A named volume a create mounts, judged by the containers that mount it
// already: an ordinary container may not mount a volume a desktop mounts; a
// desktop's extra volume may be mounted only by other desktops, read-only.
Denial CheckVolumeUsers(Ctx& c, const std::string& volume, const std::string& field, bool desktop);

// container_refs.cc: references to containers that mean the same container
// when dockerd acts on them.
// Lower-case hex of 1 to 64 digits (with an optional leading '/'): what
// dockerd would also read as a container ID or ID prefix.
bool LooksLikeIdPrefix(std::string_view name);
// A name a container may be created with or renamed to (`field` names it).
Denial CheckNewContainerName(const std::string& name, const std::string& field);
enum class RefUse {
  kRequest,  // acted on once, now (exec, attach, archive): an ID prefix is fine
  kBinding,  // kept by the new container (namespace modes, VolumesFrom,
             // links): a full ID or an exact name only
};
// Resolves `ref` through the engine as dockerd will; a deny naming `field`
// when that fails or when dockerd could later resolve it differently.
Denial ResolveContainerRef(Ctx& c, const std::string& ref, const std::string& field, RefUse use,
                           ContainerInfo* out);

// framing.cc: what the body and its headers may look like on `route`,
// checked before the route's own check.
Denial CheckFraming(const Route& route, const NormalizedRequest& req);

// Route checks, one per endpoint that has any (routes.cc maps them).
Denial CheckContainerCreate(Ctx& c);
// desktop_shape.cc: the allowed image and, when the policy pins it, its own
// command; the labels and limits a desktop must carry.
Denial CheckDesktopImage(Ctx& c);
// A user-namespaced desktop only on an engine known to run with userns-remap.
Denial CheckDesktopEngine(Ctx& c);
// The helixvol options the desktop shape requires of its data root: in
// effect on an existing volume, or `asked` for one this create makes.
Denial CheckDataRootOptions(Ctx& c, const std::string& volume,
                            const std::map<std::string, std::string>& asked,
                            const std::string& field);
Denial CheckDesktopLabels(Ctx& c);
Denial CheckDesktopShape(Ctx& c, const nlohmann::json& host_config);
// Limits an update may set on a privileged container.
Denial CheckDesktopLimitUpdate(Ctx& c, const nlohmann::json& resources);
Denial CheckMounts(Ctx& c, const nlohmann::json& host_config, bool privileged);
// create_network.cc: namespace modes, networks, links, published ports.
Denial CheckCreateNetworking(Ctx& c, const nlohmann::json& host_config, bool privileged);
// An EndpointSettings object (create's EndpointsConfig, network connect's
// EndpointConfig): no link-local addresses.
Denial CheckEndpointSettings(const nlohmann::json& settings, const std::string& field);
// desktop_shape.cc: the data root belongs to the desktop's session.
Denial CheckDataRootSession(Ctx& c, const std::string& volume, const std::string& field);
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
