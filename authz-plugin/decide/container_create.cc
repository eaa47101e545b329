// POST /containers/create: every place a create can reach the host. A
// request with any privileged-equivalent attribute is a desktop and must
// have the whole desktop shape; anything else is an ordinary container and
// must stay within the ordinary allowlists (privileges.cc decides which).
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "common/quote.h"
#include "common/size.h"
#include "common/strings.h"

namespace helix::authz {
namespace {

using nlohmann::json;

// HostConfig fields (with Resources inlined) in Docker's spelling. dockerd
// 20.10 still reads them at the top level of a create body
// (runconfig.ContainerConfigWrapper): refused there, whatever their value.
const char* const kHostConfigFields[] = {"Binds",
                                         "ContainerIDFile",
                                         "LogConfig",
                                         "NetworkMode",
                                         "PortBindings",
                                         "RestartPolicy",
                                         "AutoRemove",
                                         "VolumeDriver",
                                         "VolumesFrom",
                                         "CapAdd",
                                         "CapDrop",
                                         "CgroupnsMode",
                                         "Dns",
                                         "DnsOptions",
                                         "DnsSearch",
                                         "ExtraHosts",
                                         "GroupAdd",
                                         "IpcMode",
                                         "Cgroup",
                                         "Links",
                                         "OomScoreAdj",
                                         "PidMode",
                                         "Privileged",
                                         "PublishAllPorts",
                                         "ReadonlyRootfs",
                                         "SecurityOpt",
                                         "StorageOpt",
                                         "Tmpfs",
                                         "UTSMode",
                                         "UsernsMode",
                                         "ShmSize",
                                         "Sysctls",
                                         "Runtime",
                                         "ConsoleSize",
                                         "Isolation",
                                         "CpuShares",
                                         "Memory",
                                         "NanoCpus",
                                         "CgroupParent",
                                         "BlkioWeight",
                                         "BlkioWeightDevice",
                                         "BlkioDeviceReadBps",
                                         "BlkioDeviceWriteBps",
                                         "BlkioDeviceReadIOps",
                                         "BlkioDeviceWriteIOps",
                                         "CpuPeriod",
                                         "CpuQuota",
                                         "CpuRealtimePeriod",
                                         "CpuRealtimeRuntime",
                                         "CpusetCpus",
                                         "CpusetMems",
                                         "Devices",
                                         "DeviceCgroupRules",
                                         "DeviceRequests",
                                         "KernelMemory",
                                         "KernelMemoryTCP",
                                         "MemoryReservation",
                                         "MemorySwap",
                                         "MemorySwappiness",
                                         "OomKillDisable",
                                         "PidsLimit",
                                         "Ulimits",
                                         "CpuCount",
                                         "CpuPercent",
                                         "IOMaximumIOps",
                                         "IOMaximumBandwidth",
                                         "MaskedPaths",
                                         "ReadonlyPaths",
                                         "Init",
                                         "Mounts",
                                         "Cpuset"};

// Capabilities, security options, device rules and devices of a desktop,
// against the privileged allowlists. (An ordinary request is within the
// ordinary allowlists by definition, or it would be a desktop.)
Denial CheckDesktopPowers(Ctx& c, const json& hc) {
  AUTHZ_GET(excess, FirstExcess(c.desktop->allowed, hc));
  if (!excess) return std::nullopt;
  if (excess->value.empty()) {
    return c.DenyDesktop(excess->kind, excess->field, "device requests (GPUs) are not allowed");
  }
  return c.DenyDesktop(excess->kind, excess->field,
                       excess->what + " " + Quote(excess->value) + " is not allowed");
}

// Runtime, log driver, sysctls, cgroup parent, OOM settings: both classes.
Denial CheckCommon(Ctx& c, const json& hc) {
  const ClassRules& cls = c.desktop ? c.desktop->allowed : c.rules.ordinary;
  const std::string prefix = c.desktop ? c.desktop->name + "." : "ordinary.";
  AUTHZ_GET(runtime, StringField(hc, "runtime", "HostConfig.Runtime"));
  if (!runtime.empty() && !Contains(cls.runtimes, runtime)) {
    return Deny(prefix + "runtimes", "HostConfig.Runtime",
                "runtime " + Quote(runtime) + " is not allowed");
  }
  if (const json* log = Member(hc, "logconfig")) {
    AUTHZ_GET(type, StringField(*log, "type", "HostConfig.LogConfig.Type"));
    AUTHZ_TRY(CheckPluginName(type, "HostConfig.LogConfig.Type", "log driver"));
    if (!type.empty() && type != "none" && !SamePlugin(cls.log_drivers, type)) {
      return Deny(prefix + "log_drivers", "HostConfig.LogConfig.Type",
                  "log driver " + Quote(type) + " is not allowed");
    }
  }
  AUTHZ_GET(sysctls, StringMapField(hc, "sysctls", "HostConfig.Sysctls"));
  for (const auto& [name, value] : sysctls) {
    bool ok = false;
    for (const auto& entry : cls.sysctls) {
      // "name=value" allows that value only; a name pattern, any value.
      const size_t eq = entry.find('=');
      ok = ok || (eq == std::string::npos ? GlobMatch(entry, name) : entry == name + "=" + value);
    }
    if (!ok) {
      return Deny(prefix + "sysctls", "HostConfig.Sysctls[" + Quote(name) + "]",
                  "sysctl " + Quote(name + "=" + value) + " is not allowed");
    }
  }
  AUTHZ_GET(parent, StringField(hc, "cgroupparent", "HostConfig.CgroupParent"));
  if (!parent.empty()) {
    return Deny("cgroup_parent", "HostConfig.CgroupParent",
                "cgroup parent " + Quote(parent) + " is not allowed");
  }
  AUTHZ_GET(oom_adj, IntField(hc, "oomscoreadj", "HostConfig.OomScoreAdj"));
  if (oom_adj < 0) {
    return Deny("oom", "HostConfig.OomScoreAdj",
                "OOM score adjustment " + std::to_string(oom_adj) +
                    " is not allowed (negative values shift the OOM killer to the host)");
  }
  AUTHZ_GET(oom_off, BoolField(hc, "oomkilldisable", "HostConfig.OomKillDisable"));
  if (oom_off) {
    return Deny("oom", "HostConfig.OomKillDisable", "disabling the OOM killer is not allowed");
  }
  return std::nullopt;
}

}  // namespace

Denial CheckContainerCreate(Ctx& c) {
  const json& body = c.Body();
  // dockerd reads the first value; every value is judged.
  for (auto [it, end] = c.req.query.equal_range("name"); it != end; ++it) {
    AUTHZ_TRY(CheckNewContainerName(it->second, "name"));
  }
  for (const char* field : kHostConfigFields) {
    if (Member(body, Lower(field)) != nullptr) {
      return Deny("create.top_level", field,
                  "HostConfig field at the top level of the body is not allowed (put it in "
                  "HostConfig)");
    }
  }
  // No HostConfig (or null) is dockerd's default host config: top-level
  // HostConfig fields were refused above, so nothing else can supply one.
  static const json kEmpty = json::object();
  const json* hc = Member(body, "hostconfig");
  if (hc == nullptr || hc->is_null()) hc = &kEmpty;
  if (!hc->is_object()) {
    return Deny("create.host_config", "HostConfig", "an object is required");
  }
  AUTHZ_GET(shape, ShapeOf(c.rules, *hc));
  const bool desktop = shape.desktop != nullptr;
  if (desktop) {
    c.desktop = shape.desktop;
    c.desktop_because =
        (shape.desktop == &c.rules.userns ? "the request is a user-namespaced desktop because of "
                                          : "the request is privileged because of ") +
        shape.reason;
  }
  // Host namespaces are refused for every container, so they are named
  // first; then, for a request that is no desktop at all, "this image may
  // not run privileged" is the message that explains the refusal.
  AUTHZ_TRY(CheckCreateNetworking(c, *hc, desktop));
  if (desktop) {
    AUTHZ_TRY(CheckDesktopEngine(c));
    AUTHZ_TRY(CheckDesktopImage(c));
    AUTHZ_TRY(CheckDesktopLabels(c));
  }
  AUTHZ_TRY(CheckMounts(c, *hc, desktop));
  AUTHZ_TRY(CheckCommon(c, *hc));
  if (!desktop) return std::nullopt;
  AUTHZ_TRY(CheckDesktopPowers(c, *hc));
  return CheckDesktopShape(c, *hc);
}

}  // namespace helix::authz
