// What makes a container privileged-equivalent. `--privileged` is one way;
// the same power can be asked for piece by piece (all capabilities,
// unconfined seccomp/AppArmor/system paths, a device rule for every device),
// and on machines where --privileged cannot start that is how desktops are
// run. Anything beyond the ordinary allowlists counts, so that a request is
// either an ordinary container or must have the full desktop shape.
#include <set>

#include "authz-plugin/checks.h"
#include "authz-plugin/request_fields.h"
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

Result<std::optional<std::string>> PrivilegeReason(const Rules& rules, const json& hc) {
  using Reason = std::optional<std::string>;
  const ClassRules& ordinary = rules.ordinary;
  auto privileged = BoolField(hc, "privileged", "HostConfig.Privileged");
  if (!privileged.ok()) return privileged.error();
  if (*privileged) return Reason("HostConfig.Privileged true");

  auto caps = StringsField(hc, "capadd", "HostConfig.CapAdd");
  if (!caps.ok()) return caps.error();
  for (size_t i = 0; i < caps->size(); ++i) {
    std::string cap = NormalizeCapability((*caps)[i]);
    if (!Contains(ordinary.capabilities, "ALL") && !Contains(ordinary.capabilities, cap)) {
      return Reason(Item("HostConfig.CapAdd", i) + " " + Quote((*caps)[i]));
    }
  }
  auto opts = StringsField(hc, "securityopt", "HostConfig.SecurityOpt");
  if (!opts.ok()) return opts.error();
  for (size_t i = 0; i < opts->size(); ++i) {
    auto norm = NormalizeSecurityOpt((*opts)[i]);
    if (!norm || !Contains(ordinary.security_options, *norm)) {
      return Reason(Item("HostConfig.SecurityOpt", i) + " " + Quote((*opts)[i]));
    }
  }
  auto rules_list = StringsField(hc, "devicecgrouprules", "HostConfig.DeviceCgroupRules");
  if (!rules_list.ok()) return rules_list.error();
  for (size_t i = 0; i < rules_list->size(); ++i) {
    if (!Contains(ordinary.device_cgroup_rules, (*rules_list)[i])) {
      return Reason(Item("HostConfig.DeviceCgroupRules", i) + " " + Quote((*rules_list)[i]));
    }
  }
  auto devices = ObjectsField(hc, "devices", "HostConfig.Devices");
  if (!devices.ok()) return devices.error();
  for (size_t i = 0; i < devices->size(); ++i) {
    auto path = StringField((*devices)[i], "pathonhost", Item("HostConfig.Devices", i));
    if (!path.ok()) return path.error();
    if (!Contains(ordinary.devices, *path)) {
      return Reason(Item("HostConfig.Devices", i) + ".PathOnHost " + Quote(*path));
    }
  }
  auto requests = ObjectsField(hc, "devicerequests", "HostConfig.DeviceRequests");
  if (!requests.ok()) return requests.error();
  if (!requests->empty() && !ordinary.device_requests) {
    return Reason(std::string("HostConfig.DeviceRequests"));
  }
  auto masked = PathsReason(hc, "maskedpaths", "HostConfig.MaskedPaths", kDefaultMaskedPaths);
  if (!masked.ok() || *masked) return masked;
  auto readonly =
      PathsReason(hc, "readonlypaths", "HostConfig.ReadonlyPaths", kDefaultReadonlyPaths);
  if (!readonly.ok() || *readonly) return readonly;
  static const std::pair<const char*, const char*> kNamespaces[] = {
      {"networkmode", "HostConfig.NetworkMode"}, {"pidmode", "HostConfig.PidMode"},
      {"ipcmode", "HostConfig.IpcMode"},         {"utsmode", "HostConfig.UTSMode"},
      {"usernsmode", "HostConfig.UsernsMode"},   {"cgroupnsmode", "HostConfig.CgroupnsMode"}};
  for (const auto& [key, field] : kNamespaces) {
    auto mode = StringField(hc, key, field);
    if (!mode.ok()) return mode.error();
    if (*mode == "host") return Reason(std::string(field) + " \"host\"");
  }
  return Reason();
}

}  // namespace helix::authz
