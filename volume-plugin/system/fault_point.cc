// Fault points for the crash tests: arm one, die there (fault_point.h).
#include "volume-plugin/system/fault_point.h"

#include <signal.h>

#include <algorithm>

#include "common/log.h"

namespace helix::vol {
namespace {

// Written once by ArmFaultPoint before any thread starts, only read after.
std::string g_armed;  // NOLINT: a plain global is the whole point

}  // namespace

const std::vector<std::string_view>& FaultPointNames() {
  static const std::vector<std::string_view> names = {
      "create.dir-made",   "create.image-made", "create.formatted", "create.meta-written",
      "create.renamed",    "clone.frozen",      "clone.copied",     "clone.thawed",
      "clone.uuid-set",    "clone.grown",       "mount.attached",   "mount.mounted",
      "mount.data-made",   "idmap.bound",       "mount.ref-saved",  "unmount.unmounted",
      "unmount.ref-saved", "remove.renamed",    "remove.deleted",
  };
  return names;
}

Status ArmFaultPoint(const std::string& name) {
  const auto& names = FaultPointNames();
  if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
    std::string valid;
    for (std::string_view n : names) {
      valid += (valid.empty() ? "" : ", ") + std::string(n);
    }
    return InvalidArgument("setting HELIXVOL_FAULT_POINT=\"" + name +
                           "\": no such fault point (valid: " + valid + ")");
  }
  g_armed = name;
  if (!name.empty()) {
    spdlog::warn("fault point {} armed: this process kills itself there (a crash test)", name);
  }
  return Ok();
}

void FaultPoint(std::string_view name) {
  if (!g_armed.empty() && name == g_armed) {
    spdlog::warn("fault point {}: SIGKILL", name);
    ::raise(SIGKILL);
  }
}

}  // namespace helix::vol
