// What makes a container privileged-equivalent. `--privileged` is one way;
// the same power can be asked for piece by piece (all capabilities,
// unconfined seccomp/AppArmor/system paths, a device rule for every device),
// and on machines where --privileged cannot start that is how desktops are
// run. Anything beyond the ordinary allowlists counts, so that a request is
// either an ordinary container or must have the full desktop shape.
#include <set>
#include <tuple>

#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

// dockerd 20.10's defaults (oci.DefaultSpec). A request that sets its own
// list replaces them, so a list missing any of these unmasks something.
const std::set<std::string> kDefaultMaskedPaths = {
    "/proc/asound",        "/proc/acpi",       "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",          "/sys/firmware"};
const std::set<std::string> kDefaultReadonlyPaths = {"/proc/bus", "/proc/fs", "/proc/irq",
                                                     "/proc/sys", "/proc/sysrq-trigger"};

std::string Item(const std::string& field, size_t i) {
  return field + "[" + std::to_string(i) + "]";
}

Result<std::optional<std::string>> PathsReason(const json& hc, std::string_view key,
                                               const std::string& field,
                                               const std::set<std::string>& defaults) {
  if (Member(hc, key) == nullptr) return std::optional<std::string>();
  auto paths = StringsField(hc, key, field);
  if (!paths.ok()) return paths.error();
  std::set<std::string> given(paths->begin(), paths->end());
  for (const auto& d : defaults) {
    if (!given.count(d)) return std::optional<std::string>(field + " without " + Quote(d));
  }
  return std::optional<std::string>();
}

}  // namespace

Result<std::optional<Excess>> FirstExcess(const ClassRules& allowed, const json& hc) {
  using Found = std::optional<Excess>;
  auto caps = StringsField(hc, "capadd", "HostConfig.CapAdd");
  if (!caps.ok()) return caps.error();
  for (size_t i = 0; i < caps->size(); ++i) {
    std::string cap = NormalizeCapability((*caps)[i]);
    if (!Contains(allowed.capabilities, "ALL") && !Contains(allowed.capabilities, cap)) {
      return Found(Excess{"capabilities", Item("HostConfig.CapAdd", i), (*caps)[i], "capability"});
    }
  }
  auto opts = StringsField(hc, "securityopt", "HostConfig.SecurityOpt");
  if (!opts.ok()) return opts.error();
  for (size_t i = 0; i < opts->size(); ++i) {
    auto norm = NormalizeSecurityOpt((*opts)[i]);
    if (!norm || !Contains(allowed.security_options, *norm)) {
      return Found(Excess{"security_options", Item("HostConfig.SecurityOpt", i), (*opts)[i],
                          "security option"});
    }
  }
  auto rules = StringsField(hc, "devicecgrouprules", "HostConfig.DeviceCgroupRules");
  if (!rules.ok()) return rules.error();
  for (size_t i = 0; i < rules->size(); ++i) {
    if (!Contains(allowed.device_cgroup_rules, (*rules)[i])) {
      return Found(Excess{"device_cgroup_rules", Item("HostConfig.DeviceCgroupRules", i),
                          (*rules)[i], "device cgroup rule"});
    }
  }
  auto devices = ObjectsField(hc, "devices", "HostConfig.Devices");
  if (!devices.ok()) return devices.error();
  for (size_t i = 0; i < devices->size(); ++i) {
    const std::string field = Item("HostConfig.Devices", i) + ".PathOnHost";
    auto path = StringField((*devices)[i], "pathonhost", field);
    if (!path.ok()) return path.error();
    if (!Contains(allowed.devices, *path)) {
      return Found(Excess{"devices", field, *path, "device"});
    }
  }
  auto requests = ObjectsField(hc, "devicerequests", "HostConfig.DeviceRequests");
  if (!requests.ok()) return requests.error();
  if (!requests->empty() && !allowed.device_requests) {
    return Found(Excess{"device_requests", "HostConfig.DeviceRequests", "", "device requests"});
  }
  return Found();
}

namespace {

// What takes `hc` beyond `allowed` (privileged, beyond its allowlists,
// dockerd's masked and read-only paths changed, a host namespace), as
// "<field> <value>"; nullopt when it stays within it.
Result<std::optional<std::string>> Beyond(const ClassRules& allowed, const json& hc) {
  using Why = std::optional<std::string>;
  auto privileged = BoolField(hc, "privileged", "HostConfig.Privileged");
  if (!privileged.ok()) return privileged.error();
  if (*privileged) return Why("HostConfig.Privileged true");
  auto excess = FirstExcess(allowed, hc);
  if (!excess.ok()) return excess.error();
  if (*excess) {
    const Excess& e = **excess;
    return Why(e.value.empty() ? e.field : e.field + " " + Quote(e.value));
  }
  for (const auto& [key, field, defaults] :
       {std::tuple{"maskedpaths", "HostConfig.MaskedPaths", &kDefaultMaskedPaths},
        {"readonlypaths", "HostConfig.ReadonlyPaths", &kDefaultReadonlyPaths}}) {
    auto paths = PathsReason(hc, key, field, *defaults);
    if (!paths.ok() || *paths) return paths;
  }
  static const std::pair<const char*, const char*> kNamespaces[] = {
      {"networkmode", "HostConfig.NetworkMode"}, {"pidmode", "HostConfig.PidMode"},
      {"ipcmode", "HostConfig.IpcMode"},         {"utsmode", "HostConfig.UTSMode"},
      {"usernsmode", "HostConfig.UsernsMode"},   {"cgroupnsmode", "HostConfig.CgroupnsMode"}};
  for (const auto& [key, field] : kNamespaces) {
    auto mode = StringField(hc, key, field);
    if (!mode.ok()) return mode.error();
    if (*mode == "host") return Why(std::string(field) + " \"host\"");
  }
  return Why();
}

}  // namespace

Result<std::optional<std::string>> PrivilegeReason(const Rules& rules, const json& hc) {
  return Beyond(rules.ordinary, hc);
}

Result<Shape> ShapeOf(const Rules& rules, const json& hc) {
  auto reason = PrivilegeReason(rules, hc);
  if (!reason.ok()) return reason.error();
  if (!*reason) return Shape{};
  if (rules.userns.enabled()) {
    auto beyond = Beyond(rules.userns.allowed, hc);
    if (!beyond.ok()) return beyond.error();
    if (!*beyond) return Shape{&rules.userns, **reason};
    // What makes it more than a user-namespaced desktop is the reason it
    // is judged as privileged, and the one the caller needs to read.
    return Shape{&rules.privileged, **beyond};
  }
  return Shape{&rules.privileged, **reason};
}

}  // namespace helix::authz
