// Requests on an existing container: the container is resolved through the
// engine (names, ID prefixes, renames) and the request refused when it
// cannot be. A protected container (privileged-equivalent, or holding a
// helixvol data root) cannot be written into or read out of, except as the
// policy says.
#include "authz-plugin/checks.h"
#include "authz-plugin/request_fields.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

std::string Route(const Ctx& c) { return c.req.method + " " + c.req.path; }

// Resolves the {name} path parameter; `why` is set when it is protected.
Denial Resolve(Ctx& c, ContainerInfo* info, std::optional<std::string>* why) {
  AUTHZ_TRY(ResolveContainer(c, c.params["name"], Route(c), info));
  *why = ProtectedReason(c.rules, *info);
  return std::nullopt;
}

// Refuses the request when the container is protected:
// "<action> "<name>" <verb> not allowed: <why>".
Denial RefuseIfProtected(Ctx& c, const char* rule, const std::string& action,
                         const char* verb = "is") {
  ContainerInfo info;
  std::optional<std::string> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why) return std::nullopt;
  return Deny(rule, Route(c),
              action + " " + Quote(c.params["name"]) + " " + verb + " not allowed: " + *why);
}

}  // namespace

Denial CheckStart(Ctx& c) {
  // API < 1.24 took a HostConfig here; no client of ours sends a body, so
  // any body at all is refused rather than evaluated.
  if (c.req.body || c.req.body_declared) {
    return Deny("containers.start", Route(c), "a request body is not allowed on start");
  }
  for (const char* key : {"checkpoint", "checkpoint-dir"}) {
    if (c.req.query.count(key)) {
      return Deny("checkpoints", Route(c),
                  std::string("query parameter ") + Quote(key) + " (restore) is not allowed");
    }
  }
  return std::nullopt;
}

Denial CheckExecCreate(Ctx& c) {
  AUTHZ_GET(privileged, BoolField(c.Body(), "privileged", "Privileged"));
  if (privileged) {
    return Deny("exec.privileged", "Privileged",
                "true is not allowed for an exec on any container (it grants all capabilities)");
  }
  if (c.rules.privileged.exec) {
    // Still resolved: a request naming no container is refused either way.
    ContainerInfo info;
    std::optional<std::string> why;
    return Resolve(c, &info, &why);
  }
  return RefuseIfProtected(c, "privileged.exec", "exec into container");
}

Denial CheckAttach(Ctx& c) {
  ContainerInfo info;
  std::optional<std::string> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why) return std::nullopt;
  if (QueryBool(c.req.query, "stdin")) {
    return Deny(
        "containers.attach", Route(c),
        "attaching stdin to container " + Quote(c.params["name"]) + " is not allowed: " + *why);
  }
  if (!c.rules.privileged.logs) {
    return Deny("privileged.logs", Route(c),
                "attaching to container " + Quote(c.params["name"]) + " is not allowed: " + *why);
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
  if (c.rules.privileged.logs) return std::nullopt;
  return RefuseIfProtected(c, "privileged.logs", "logs of container", "are");
}

Denial CheckRename(Ctx& c) {
  // A privileged container that could take another container's name would
  // receive requests judged against the container that had it.
  return RefuseIfProtected(c, "containers.rename", "renaming container");
}

Denial CheckUpdate(Ctx& c) {
  const json& body = c.Body();
  // dockerd does not apply these on update; refused so that no later
  // version starts to.
  for (const auto& [key, field] : {std::pair{"devices", "Devices"},
                                   {"devicecgrouprules", "DeviceCgroupRules"},
                                   {"devicerequests", "DeviceRequests"},
                                   {"cgroupparent", "CgroupParent"}}) {
    const json* v = Member(body, key);
    if (v != nullptr && !(v->is_array() && v->empty()) && !(v->is_string() && v->empty())) {
      return Deny("containers.update", field, "changing " + std::string(field) + " is not allowed");
    }
  }
  AUTHZ_GET(oom_off, BoolField(body, "oomkilldisable", "OomKillDisable"));
  if (oom_off) return Deny("oom", "OomKillDisable", "disabling the OOM killer is not allowed");
  ContainerInfo info;
  std::optional<std::string> why;
  AUTHZ_TRY(Resolve(c, &info, &why));
  if (!why) return std::nullopt;
  c.privileged_because = "container " + Quote(c.params["name"]) + " is protected: " + *why;
  return CheckDesktopLimitUpdate(c, body);
}

}  // namespace helix::authz
