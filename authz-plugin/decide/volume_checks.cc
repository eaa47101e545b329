// POST /volumes/create, and the driver options a HostConfig.Mounts entry
// passes when it creates a volume. The local driver's options are mount(8)
// options (type=none,o=bind,device=/) and so reach the host: refused.
// helixvol's options decide whose data a new volume starts with.
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "common/quote.h"
#include "common/size.h"

namespace helix::authz {

Denial CheckHelixvolOptions(Ctx& c, const std::map<std::string, std::string>& options,
                            const std::string& field) {
  const HelixvolRules& h = c.rules.helixvol;
  auto item = [&](const std::string& key) { return field + "[" + Quote(key) + "]"; };
  for (const auto& [key, value] : options) {
    // owner and idmap only say whom a volume's files belong to, in it.
    if (key != "size" && key != "exclusive" && key != "from" && key != "snapshot" &&
        key != "owner" && key != "idmap") {
      return Deny("helixvol.options", item(key), "option " + Quote(key) + " is not allowed");
    }
  }
  if (auto it = options.find("size"); it != options.end()) {
    auto size = ParseSize(it->second);
    if (!size.ok() || *size > static_cast<uint64_t>(h.max_size)) {
      return Deny("helixvol.max_size", item("size"),
                  "size " + Quote(it->second) + " is not a size of at most " +
                      FormatSize(static_cast<uint64_t>(h.max_size)));
    }
  }
  if (auto it = options.find("exclusive"); it != options.end() && it->second != "true") {
    if (!h.allow_shared) {
      return Deny("helixvol.allow_shared", item("exclusive"),
                  "exclusive " + Quote(it->second) +
                      " is not allowed (a data root shared by two engines is corrupted)");
    }
  }
  bool snapshot = false;
  if (auto it = options.find("snapshot"); it != options.end()) {
    snapshot = it->second != "false";
  }
  auto from_it = options.find("from");
  std::string from = from_it == options.end() ? "" : from_it->second;
  if (from.empty()) return std::nullopt;  // a fresh volume, or DEFAULT_FROM
  if (snapshot) {
    for (const auto& pattern : h.snapshot_from_patterns) {
      if (GlobMatch(pattern, from)) return std::nullopt;
    }
    return Deny("helixvol.snapshot_from_patterns", item("from"),
                "snapshot of volume " + Quote(from) + " is not allowed");
  }
  for (const auto& pattern : h.from_patterns) {
    if (GlobMatch(pattern, from)) return std::nullopt;
  }
  // Cloning a data root copies its secrets; a snapshot is made on purpose
  // (by the preload tool) to be cloned.
  auto source = c.engine.InspectVolume(from);
  if (!source.ok()) {
    return Deny(
        "resolve", item("from"),
        "clone source " + Quote(from) + " cannot be inspected: " + source.error().message());
  }
  if (!source->snapshot) {
    return Deny("helixvol.from", item("from"),
                "cloning volume " + Quote(from) + " is not allowed: it is not a snapshot");
  }
  return std::nullopt;
}

Denial CheckVolumeCreate(Ctx& c) {
  const nlohmann::json& body = c.Body();
  AUTHZ_GET(driver, StringField(body, "driver", "Driver"));
  AUTHZ_GET(options, StringMapField(body, "driveropts", "DriverOpts"));
  AUTHZ_TRY(CheckPluginName(driver, "Driver", "volume driver"));
  if (driver.empty()) driver = "local";
  if (IsHelixvolDriver(c.rules, driver)) return CheckHelixvolOptions(c, options, "DriverOpts");
  if (!SamePlugin(c.rules.volume_drivers, driver)) {
    return Deny("volume_drivers", "Driver", "volume driver " + Quote(driver) + " is not allowed");
  }
  if (!options.empty()) {
    return Deny("volumes.local_options", "DriverOpts[" + Quote(options.begin()->first) + "]",
                "driver option " + Quote(options.begin()->first) + " of driver " + Quote(driver) +
                    " is not allowed (local options can bind host paths)");
  }
  return std::nullopt;
}

}  // namespace helix::authz
