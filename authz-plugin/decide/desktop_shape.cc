// The parts of the desktop shape that are not about mounts or powers: the
// image and what it runs, the labels, the data root's session and the
// resource limits.
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
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
  const int64_t max = c.desktop->max_nano_cpus;
  AUTHZ_GET(nano, IntField(res, "nanocpus", prefix + "NanoCpus"));
  AUTHZ_GET(quota, IntField(res, "cpuquota", prefix + "CpuQuota"));
  AUTHZ_GET(period, IntField(res, "cpuperiod", prefix + "CpuPeriod"));
  const std::string limit = "at most " + Cpus(max) + " CPUs";
  if (nano != 0 || (quota == 0 && period == 0)) {
    if ((nano == 0 && !required) || (nano > 0 && nano <= max)) return std::nullopt;
    return c.DenyDesktop("limits", prefix + "NanoCpus",
                         "CPU limit " + std::to_string(nano) + " must be set and " + limit);
  }
  if (quota <= 0 || period < 0) {
    return c.DenyDesktop("limits", prefix + "CpuQuota",
                         "CPU quota " + std::to_string(quota) + " must be positive and " + limit);
  }
  if (period == 0) period = kDefaultCpuPeriod;
  // quota/period CPUs, compared in nano-CPUs without overflow for sane
  // values (quota is microseconds, at most about 10^12).
  if (quota > max / 1000000000 * period + (max % 1000000000) * period / 1000000000) {
    return c.DenyDesktop("limits", prefix + "CpuQuota",
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
  return c.DenyDesktop("limits", field,
                       "limit " + std::to_string(value) + " must be set and at most " + shown);
}

// MemorySwap counts memory plus swap; 0 is dockerd's default of twice
// Memory (on create), -1 unlimited.
Denial CheckSwap(Ctx& c, const json& res, const std::string& field, int64_t memory) {
  const int64_t max = c.desktop->max_memory_swap;
  AUTHZ_GET(swap, IntField(res, "memoryswap", field));
  if (swap < 0) {
    return c.DenyDesktop("limits", field,
                         "unlimited swap " + std::to_string(swap) + " is not allowed");
  }
  const int64_t effective = swap == 0 ? (memory > INT64_MAX / 2 ? INT64_MAX : 2 * memory) : swap;
  if (effective <= max) return std::nullopt;
  const std::string what = swap == 0 ? "memory plus swap (twice Memory by default) " +
                                           FormatSize(static_cast<uint64_t>(effective))
                                     : "memory plus swap " + std::to_string(swap);
  return c.DenyDesktop("limits", field,
                       what + " is more than " + FormatSize(static_cast<uint64_t>(max)));
}

// A StrSlice field (Entrypoint, Cmd, Healthcheck.Test) as Go reads it: a
// list, or one string; nullopt for absent or null.
Result<std::optional<std::vector<std::string>>> Command(const json& object, const char* key,
                                                        const std::string& field) {
  const json* v = Member(object, key);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (v->is_string()) return std::optional(std::vector<std::string>{v->get<std::string>()});
  auto list = StringsField(object, key, field);
  if (!list.ok()) return list.error();
  return std::optional(std::move(*list));
}

std::string Show(const std::optional<std::vector<std::string>>& cmd) {
  return cmd ? json(*cmd).dump() : "null";
}

// Entrypoint and Cmd as dockerd merges them with the image's (daemon
// merge()): an empty Entrypoint keeps the image's Cmd, a null one the
// image's Entrypoint too.
Denial CheckDesktopCommand(Ctx& c, const ImageInfo& image) {
  const json& body = c.Body();
  AUTHZ_GET(entrypoint, Command(body, "entrypoint", "Entrypoint"));
  AUTHZ_GET(cmd, Command(body, "cmd", "Cmd"));
  AUTHZ_GET(own_entrypoint, Command(image.config, "entrypoint", "image Entrypoint"));
  AUTHZ_GET(own_cmd, Command(image.config, "cmd", "image Cmd"));
  auto effective_entrypoint = entrypoint;
  auto effective_cmd = cmd;
  if (!entrypoint || entrypoint->empty()) {
    if (!cmd || cmd->empty()) effective_cmd = own_cmd;
    if (!entrypoint) effective_entrypoint = own_entrypoint;
  }
  auto same = [](const auto& a, const auto& b) {
    return (a ? *a : std::vector<std::string>{}) == (b ? *b : std::vector<std::string>{});
  };
  if (!same(effective_entrypoint, own_entrypoint)) {
    return c.DenyDesktop("command", "Entrypoint",
                         "entrypoint " + Show(entrypoint) + " is not the image's own (" +
                             Show(own_entrypoint) + ")");
  }
  if (!same(effective_cmd, own_cmd)) {
    return c.DenyDesktop(
        "command", "Cmd",
        "command " + Show(cmd) + " is not the image's own (" + Show(own_cmd) + ")");
  }
  for (const auto& [key, field] : {std::pair{"user", "User"}, {"workingdir", "WorkingDir"}}) {
    AUTHZ_GET(value, StringField(body, key, field));
    AUTHZ_GET(own, StringField(image.config, key, std::string("image ") + field));
    if (!value.empty() && value != own) {
      return c.DenyDesktop("command", field,
                           Quote(value) + " is not the image's own (" + Quote(own) + ")");
    }
  }
  if (const json* health = Member(body, "healthcheck")) {
    AUTHZ_GET(test, Command(*health, "test", "Healthcheck.Test"));
    const json* own_health = Member(image.config, "healthcheck");
    std::optional<std::vector<std::string>> own_test;
    if (own_health != nullptr) {
      AUTHZ_GET(t, Command(*own_health, "test", "image Healthcheck.Test"));
      own_test = t;
    }
    // An empty test keeps the image's; NONE runs nothing.
    const bool harmless = !test || test->empty() || *test == std::vector<std::string>{"NONE"};
    if (!harmless && !same(test, own_test)) {
      return c.DenyDesktop("command", "Healthcheck.Test",
                           "health check " + Show(test) + " is not the image's own (" +
                               Show(own_test) + "); it would run as root in the desktop");
    }
  }
  return std::nullopt;
}

}  // namespace

Denial CheckDataRootSession(Ctx& c, const std::string& volume, const std::string& field) {
  const DesktopRules& p = *c.desktop;
  if (p.data_root_labels.empty() && p.data_root_name.empty()) return std::nullopt;
  AUTHZ_GET(labels, StringMapField(c.Body(), "labels", "Labels"));
  auto label = [&](const std::string& key) -> const std::string* {
    auto it = labels.find(key);
    return it == labels.end() ? nullptr : &it->second;
  };
  if (!p.data_root_name.empty()) {
    // "{key}" becomes the container's label value, literally.
    std::string pattern;
    for (size_t i = 0; i < p.data_root_name.size();) {
      const size_t open = p.data_root_name.find('{', i);
      const size_t close =
          open == std::string::npos ? std::string::npos : p.data_root_name.find('}', open);
      if (close == std::string::npos) {
        pattern += p.data_root_name.substr(i);
        break;
      }
      pattern += p.data_root_name.substr(i, open - i);
      const std::string key = p.data_root_name.substr(open + 1, close - open - 1);
      const std::string* value = label(key);
      if (value == nullptr || value->empty() || value->find('*') != std::string::npos) {
        return c.DenyDesktop(
            "data_root", "Labels[" + Quote(key) + "]",
            "label " + Quote(key) + " must be set, without '*', to name the data root");
      }
      pattern += *value;
      i = close + 1;
    }
    if (volume.empty() || !GlobMatch(pattern, volume)) {
      return c.DenyDesktop("data_root", field,
                           "data root " + Quote(volume) +
                               " is not this session's (its name "
                               "must match " +
                               Quote(pattern) + ")");
    }
  }
  if (p.data_root_labels.empty() || volume.empty()) return std::nullopt;
  auto info = c.engine.InspectVolume(volume);
  if (!info.ok()) {
    // A data root that does not exist yet is made, empty or from the
    // plugin's default, by this very create: it holds no one's data.
    if (info.error().kind() == ErrorKind::kNotFound) return std::nullopt;
    return Deny("resolve", field,
                "volume " + Quote(volume) + " cannot be inspected: " + info.error().message());
  }
  for (const std::string& key : p.data_root_labels) {
    const std::string* mine = label(key);
    auto theirs = info->labels.find(key);
    if (mine == nullptr) {
      return c.DenyDesktop("data_root", "Labels",
                           "label " + Quote(key) + " is required to use a data root");
    }
    if (theirs == info->labels.end() || theirs->second != *mine) {
      const std::string has =
          theirs == info->labels.end() ? "no label " + Quote(key) : Quote(theirs->second);
      return c.DenyDesktop("data_root", field,
                           "data root " + Quote(volume) + " belongs to another session (" +
                               Quote(key) + " " + Quote(*mine) + " here, " + has +
                               " on the volume)");
    }
  }
  return std::nullopt;
}

Denial CheckDesktopEngine(Ctx& c) {
  if (c.desktop != &c.rules.userns) return std::nullopt;
  // Without userns-remap, root in this desktop is root on the host: the
  // shape's powers (SYS_ADMIN among them) were granted on that promise.
  EngineFacts facts = c.facts;
  if (!facts.userns) {
    // Not known yet (the engine was not up when the plugin started): ask.
    auto asked = c.engine.Facts();
    if (asked.ok()) facts = *asked;
  }
  if (!facts.userns) {
    return c.DenyDesktop("engine", "HostConfig",
                         "whether the engine runs with user namespaces is not known (" +
                             (facts.why.empty() ? std::string("it cannot be asked") : facts.why) +
                             "), so a user-namespaced desktop cannot be admitted");
  }
  if (!*facts.userns) {
    return c.DenyDesktop("engine", "HostConfig",
                         "the engine does not run with user namespaces (userns-remap), so this "
                         "desktop would be root on the host");
  }
  return std::nullopt;
}

Denial CheckDataRootOptions(Ctx& c, const std::string& volume,
                            const std::map<std::string, std::string>& asked,
                            const std::string& field) {
  const auto& required = c.desktop->data_root_options;
  if (required.empty()) return std::nullopt;
  std::map<std::string, std::string> in_effect = asked;
  bool exists = false;
  if (!volume.empty()) {
    auto info = c.engine.InspectVolume(volume);
    if (info.ok()) {
      exists = true;
      // What the plugin reports in effect (a clone inherits its source's),
      // else what the volume was created with.
      in_effect = info->options;
      for (const auto& [k, v] : info->status) in_effect[k] = v;
    } else if (info.error().kind() != ErrorKind::kNotFound) {
      return Deny("resolve", field,
                  "volume " + Quote(volume) + " cannot be inspected: " + info.error().message());
    }
  }
  for (const auto& [key, value] : required) {
    auto it = in_effect.find(key);
    if (it != in_effect.end() && it->second == value) continue;
    const std::string has = it == in_effect.end() ? "none" : Quote(it->second);
    const std::string how = exists ? ""
                                   : " (create it first: docker volume create -d helixvol -o " +
                                         key + "=" + value + " ...)";
    return c.DenyDesktop("data_root", field,
                         "data root " + Quote(volume) + " needs helixvol option " + key + "=" +
                             value + ", has " + has + how);
  }
  return std::nullopt;
}

Denial CheckDesktopImage(Ctx& c) {
  const DesktopRules& p = *c.desktop;
  AUTHZ_GET(image, StringField(c.Body(), "image", "Image"));
  if (image.empty()) return c.DenyDesktop("images", "Image", "an image is required");
  auto info = c.engine.InspectImage(image);
  if (!info.ok()) {
    return c.DenyDesktop(
        "images", "Image",
        "image " + Quote(image) + " cannot be resolved: " + info.error().message());
  }
  bool allowed = Contains(p.image_ids, info->id);
  for (const auto& digest : info->repo_digests) {
    auto at = digest.find('@');
    allowed =
        allowed || (at != std::string::npos && Contains(p.image_digests, digest.substr(at + 1)));
  }
  if (allowed) return p.pin_command ? CheckDesktopCommand(c, *info) : std::nullopt;
  return c.DenyDesktop(
      "images", "Image",
      "image " + Quote(image) + " (" + info->id + ") is not allowed to run privileged");
}

Denial CheckDesktopLabels(Ctx& c) {
  const DesktopRules& p = *c.desktop;
  AUTHZ_GET(labels, StringMapField(c.Body(), "labels", "Labels"));
  for (const auto& [key, rule] : p.labels) {
    auto it = labels.find(key);
    if (it == labels.end()) {
      return c.DenyDesktop("labels", "Labels", "label " + Quote(key) + " is required");
    }
    if (!rule.any_value && !Contains(rule.values, it->second)) {
      return c.DenyDesktop("labels", "Labels[" + Quote(key) + "]",
                           "value " + Quote(it->second) + " is not allowed");
    }
  }
  return std::nullopt;
}

Denial CheckDesktopShape(Ctx& c, const json& hc) {
  const DesktopRules& p = *c.desktop;
  AUTHZ_TRY(CheckMax(c, hc, "memory", "HostConfig.Memory", p.max_memory, true, true));
  AUTHZ_GET(memory, IntField(hc, "memory", "HostConfig.Memory"));
  AUTHZ_TRY(CheckSwap(c, hc, "HostConfig.MemorySwap", memory));
  AUTHZ_TRY(CheckCpu(c, hc, "HostConfig.", true));
  return CheckMax(c, hc, "pidslimit", "HostConfig.PidsLimit", p.max_pids, true, false);
}

Denial CheckDesktopLimitUpdate(Ctx& c, const json& res) {
  const DesktopRules& p = *c.desktop;
  AUTHZ_TRY(CheckMax(c, res, "memory", "Memory", p.max_memory, false, true));
  // An update leaves what it does not name as it was (0 is "unchanged").
  if (Member(res, "memoryswap") != nullptr) {
    AUTHZ_GET(swap, IntField(res, "memoryswap", "MemorySwap"));
    if (swap != 0) AUTHZ_TRY(CheckSwap(c, res, "MemorySwap", 0));
  }
  AUTHZ_TRY(CheckCpu(c, res, "", false));
  // PidsLimit 0 or negative in an update means unlimited, not unchanged.
  if (Member(res, "pidslimit") != nullptr) {
    AUTHZ_TRY(CheckMax(c, res, "pidslimit", "PidsLimit", p.max_pids, true, false));
  }
  return std::nullopt;
}

}  // namespace helix::authz
