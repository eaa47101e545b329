// The parts of the desktop shape that are not about mounts or powers: the
// image, the labels and the resource limits.
#include "authz-plugin/checks.h"
#include "authz-plugin/request_fields.h"
#include "common/quote.h"
#include "common/size.h"

namespace helix::authz {
namespace {

using nlohmann::json;

std::string Cpus(int64_t nano) {
  std::string s = std::to_string(static_cast<double>(nano) / 1e9);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

// dockerd's default CFS period when CpuQuota is given without one.
constexpr int64_t kDefaultCpuPeriod = 100000;

// Checks one CPU limit: NanoCpus, or CpuQuota over CpuPeriod. `required`
// for a create; an update may leave both out (unchanged).
Denial CheckCpu(Ctx& c, const json& res, const std::string& prefix, bool required) {
  const int64_t max = c.rules.privileged.max_nano_cpus;
  AUTHZ_GET(nano, IntField(res, "nanocpus", prefix + "NanoCpus"));
  AUTHZ_GET(quota, IntField(res, "cpuquota", prefix + "CpuQuota"));
  AUTHZ_GET(period, IntField(res, "cpuperiod", prefix + "CpuPeriod"));
  const std::string limit = "at most " + Cpus(max) + " CPUs";
  if (nano != 0 || (quota == 0 && period == 0)) {
    if ((nano == 0 && !required) || (nano > 0 && nano <= max)) return std::nullopt;
    return c.DenyPrivileged("privileged.limits", prefix + "NanoCpus",
                            "CPU limit " + std::to_string(nano) + " must be set and " + limit);
  }
  if (quota <= 0 || period < 0) {
    return c.DenyPrivileged(
        "privileged.limits", prefix + "CpuQuota",
        "CPU quota " + std::to_string(quota) + " must be positive and " + limit);
  }
  if (period == 0) period = kDefaultCpuPeriod;
  // quota/period CPUs, compared in nano-CPUs without overflow for sane
  // values (quota is microseconds, at most about 10^12).
  if (quota > max / 1000000000 * period + (max % 1000000000) * period / 1000000000) {
    return c.DenyPrivileged("privileged.limits", prefix + "CpuQuota",
                            "CPU quota " + std::to_string(quota) + " over period " +
                                std::to_string(period) + " is more than " + Cpus(max) + " CPUs");
  }
  return std::nullopt;
}

Denial CheckMax(Ctx& c, const json& res, const char* key, const std::string& field, int64_t max,
                bool required, bool bytes) {
  AUTHZ_GET(value, IntField(res, key, field));
  if (!required && value == 0) return std::nullopt;
  if (value > 0 && value <= max) return std::nullopt;
  std::string shown = bytes ? FormatSize(static_cast<uint64_t>(max)) : std::to_string(max);
  return c.DenyPrivileged("privileged.limits", field,
                          "limit " + std::to_string(value) + " must be set and at most " + shown);
}

}  // namespace

Denial CheckDesktopImage(Ctx& c) {
  const PrivilegedRules& p = c.rules.privileged;
  AUTHZ_GET(image, StringField(c.Body(), "image", "Image"));
  if (image.empty()) return c.DenyPrivileged("privileged.images", "Image", "an image is required");
  auto info = c.engine.InspectImage(image);
  if (!info.ok()) {
    return c.DenyPrivileged(
        "privileged.images", "Image",
        "image " + Quote(image) + " cannot be resolved: " + info.error().message());
  }
  if (Contains(p.image_ids, info->id)) return std::nullopt;
  for (const auto& digest : info->repo_digests) {
    auto at = digest.find('@');
    if (at != std::string::npos && Contains(p.image_digests, digest.substr(at + 1))) {
      return std::nullopt;
    }
  }
  return c.DenyPrivileged(
      "privileged.images", "Image",
      "image " + Quote(image) + " (" + info->id + ") is not allowed to run privileged");
}

Denial CheckDesktopShape(Ctx& c, const json& hc) {
  const PrivilegedRules& p = c.rules.privileged;
  AUTHZ_GET(labels, StringMapField(c.Body(), "labels", "Labels"));
  for (const auto& [key, rule] : p.labels) {
    auto it = labels.find(key);
    if (it == labels.end()) {
      return c.DenyPrivileged("privileged.labels", "Labels",
                              "label " + Quote(key) + " is required");
    }
    if (!rule.any_value && !Contains(rule.values, it->second)) {
      return c.DenyPrivileged("privileged.labels", "Labels[" + Quote(key) + "]",
                              "value " + Quote(it->second) + " is not allowed");
    }
  }
  AUTHZ_TRY(CheckMax(c, hc, "memory", "HostConfig.Memory", p.max_memory, true, true));
  AUTHZ_GET(swap, IntField(hc, "memoryswap", "HostConfig.MemorySwap"));
  if (swap < 0) {
    return c.DenyPrivileged("privileged.limits", "HostConfig.MemorySwap",
                            "unlimited swap " + std::to_string(swap) + " is not allowed");
  }
  AUTHZ_TRY(CheckCpu(c, hc, "HostConfig.", true));
  return CheckMax(c, hc, "pidslimit", "HostConfig.PidsLimit", p.max_pids, true, false);
}

Denial CheckDesktopLimitUpdate(Ctx& c, const json& res) {
  const PrivilegedRules& p = c.rules.privileged;
  AUTHZ_TRY(CheckMax(c, res, "memory", "Memory", p.max_memory, false, true));
  AUTHZ_GET(swap, IntField(res, "memoryswap", "MemorySwap"));
  if (swap < 0) {
    return c.DenyPrivileged("privileged.limits", "MemorySwap",
                            "unlimited swap " + std::to_string(swap) + " is not allowed");
  }
  AUTHZ_TRY(CheckCpu(c, res, "", false));
  // PidsLimit 0 or negative in an update means unlimited, not unchanged.
  if (Member(res, "pidslimit") != nullptr) {
    AUTHZ_TRY(CheckMax(c, res, "pidslimit", "PidsLimit", p.max_pids, true, false));
  }
  return std::nullopt;
}

}  // namespace helix::authz
