// Requests on an existing container: the container is resolved through the
// engine (names, ID prefixes, renames) and the request refused when it
// cannot be. A protected container (a desktop, or one that shares a
// desktop's namespaces or volumes: protection.cc) cannot be written into or
// read out of, except as the policy says.
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

std::string Where(const Ctx& c) { return c.req.method + " " + c.req.path; }

// Resolves the {name} path parameter; `why` is set when it is protected.
Denial Resolve(Ctx& c, ContainerInfo* info, std::optional<Protection>* why) {
  AUTHZ_TRY(ResolveContainerRef(c, c.params["name"], Where(c), RefUse::kRequest, info));
  *why = ProtectionOf(c, *info);
  return std::nullopt;
}

// Refuses the request when the container is protected:
// "<action> "<name>" <verb> not allowed: <why>".
Denial RefuseIfProtected(Ctx& c, const char* rule, const std::string& action,
                         const char* verb = "is") {
  ContainerInfo info;
  std::optional<Protection> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why) return std::nullopt;
  return Deny(rule, Where(c),
              action + " " + Quote(c.params["name"]) + " " + verb + " not allowed: " + why->reason);
}

// Go's form value for `key` at its worst: true if any value is. dockerd
// reads the first (r.FormValue); framing.cc has made sure there is no form
// body to add values the plugin cannot see.
bool AnyTrue(const Ctx& c, const std::string& key) {
  for (auto [it, end] = c.req.query.equal_range(key); it != end; ++it) {
    std::multimap<std::string, std::string> one = {{key, it->second}};
    if (QueryBool(one, key)) return true;
  }
  return false;
}

}  // namespace

Denial CheckStart(Ctx& c) {
  for (const char* key : {"checkpoint", "checkpoint-dir"}) {
    if (c.req.query.count(key)) {
      return Deny("checkpoints", Where(c),
                  std::string("query parameter ") + Quote(key) + " (restore) is not allowed");
    }
  }
  ContainerInfo info;
  std::optional<Protection> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  // A desktop starts as it was admitted. A container protected only by what
  // it shares with one would run its own command in that desktop's
  // namespaces or volumes.
  if (why && !why->own) {
    return Deny(
        "containers.start", Where(c),
        "starting container " + Quote(c.params["name"]) + " is not allowed: " + why->reason);
  }
  return std::nullopt;
}

Denial CheckExecCreate(Ctx& c) {
  AUTHZ_GET(privileged, BoolField(c.Body(), "privileged", "Privileged"));
  if (privileged) {
    return Deny("exec.privileged", "Privileged",
                "true is not allowed for an exec on any container (it grants all capabilities)");
  }
  ContainerInfo info;
  std::optional<Protection> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why || why->shape->exec) return std::nullopt;
  return Deny(why->shape->name + ".exec", Where(c),
              "exec into container " + Quote(c.params["name"]) + " is not allowed: " + why->reason);
}

Denial CheckAttach(Ctx& c) {
  ContainerInfo info;
  std::optional<Protection> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why) return std::nullopt;
  if (AnyTrue(c, "stdin")) {
    return Deny("containers.attach", Where(c),
                "attaching stdin to container " + Quote(c.params["name"]) +
                    " is not allowed: " + why->reason);
  }
  if (!why->shape->logs) {
    return Deny(
        why->shape->name + ".logs", Where(c),
        "attaching to container " + Quote(c.params["name"]) + " is not allowed: " + why->reason);
  }
  return std::nullopt;
}

Denial CheckAttachWebsocket(Ctx& c) {
  // The websocket carries stdin whatever the query says.
  return RefuseIfProtected(c, "containers.attach", "websocket attach to container");
}

Denial CheckReadsFiles(Ctx& c) {
  return RefuseIfProtected(c, "containers.files", "reading files of container");
}

Denial CheckArchiveUpload(Ctx& c) {
  return RefuseIfProtected(c, "containers.files", "writing files into container");
}

Denial CheckLogs(Ctx& c) {
  if (c.rules.privileged.logs && (!c.rules.userns.enabled() || c.rules.userns.logs)) {
    return std::nullopt;  // no lookup needed: every shape allows logs
  }
  ContainerInfo info;
  std::optional<Protection> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why || why->shape->logs) return std::nullopt;
  return Deny(why->shape->name + ".logs", Where(c),
              "logs of container " + Quote(c.params["name"]) + " are not allowed: " + why->reason);
}

Denial CheckRename(Ctx& c) {
  // dockerd reads the first value; every value is judged.
  for (auto [it, end] = c.req.query.equal_range("name"); it != end; ++it) {
    AUTHZ_TRY(CheckNewContainerName(it->second, "name"));
  }
  // A privileged container that could take another container's name would
  // receive requests judged against the container that had it.
  return RefuseIfProtected(c, "containers.rename", "renaming container");
}

Denial CheckUpdate(Ctx& c) {
  const json& body = c.Body();
  // dockerd does not apply these on update; refused so that no later
  // version starts to. The docker CLI sends every field, most at their zero
  // value ("CgroupParent": ""), which means unset.
  for (const auto& [key, field] : {std::pair{"devices", "Devices"},
                                   {"devicecgrouprules", "DeviceCgroupRules"},
                                   {"devicerequests", "DeviceRequests"},
                                   {"cgroupparent", "CgroupParent"}}) {
    const json* v = Member(body, key);
    if (v != nullptr && !IsZeroValue(*v)) {
      return Deny("containers.update", field, "changing " + std::string(field) + " is not allowed");
    }
  }
  AUTHZ_GET(oom_off, BoolField(body, "oomkilldisable", "OomKillDisable"));
  if (oom_off) return Deny("oom", "OomKillDisable", "disabling the OOM killer is not allowed");
  ContainerInfo info;
  std::optional<Protection> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why || !why->own) return std::nullopt;  // an ordinary container's limits are its own
  c.desktop = why->shape;
  c.desktop_because = "container " + Quote(c.params["name"]) + " is protected: " + why->reason;
  return CheckDesktopLimitUpdate(c, body);
}

}  // namespace helix::authz
