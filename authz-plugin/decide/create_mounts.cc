// Every way a container create can mount something: HostConfig.Binds,
// HostConfig.Mounts, HostConfig.Tmpfs, HostConfig.VolumesFrom, the body's
// Volumes (anonymous volumes, like the image's VOLUMEs) and
// HostConfig.VolumeDriver. Host paths are refused unless allowlisted; a
// volume is judged by the driver dockerd will use for it: the existing
// volume's driver, else the one the request names (VolumeDriver for Binds
// and anonymous volumes, DriverConfig.Name for Mounts), else "local". A
// named volume that exists is also judged by who mounts it already.
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

struct MountRequest {
  std::string field;   // "HostConfig.Binds[0]"
  std::string type;    // "bind", "volume", "tmpfs"
  std::string source;  // host path or volume name; "" for an anonymous volume
  std::string target;  // cleaned
  bool read_only = false;
  std::string driver;                          // the driver the request names, "" for none
  std::map<std::string, std::string> options;  // Mounts' DriverConfig.Options
};

// The Linux forms dockerd takes: "dst", "src:dst", "src:dst:mode".
Denial ParseBind(const std::string& raw, const std::string& field, const std::string& driver,
                 MountRequest* m) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (true) {
    size_t j = raw.find(':', i);
    parts.push_back(raw.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (parts.size() > 3 || parts[0].empty() || (parts.size() >= 2 && parts[1].empty())) {
    return Deny("mounts", field, "bind " + Quote(raw) + " is not src:dst[:mode]");
  }
  m->field = field;
  m->driver = driver;
  if (parts.size() == 1) {
    m->type = "volume";
    m->target = CleanPath(parts[0]);
    return std::nullopt;
  }
  m->source = parts[0];
  m->target = CleanPath(parts[1]);
  m->type = m->source[0] == '/' ? "bind" : "volume";
  if (parts.size() == 3) {
    size_t k = 0;
    while (k <= parts[2].size()) {
      size_t e = parts[2].find(',', k);
      if (e == std::string::npos) e = parts[2].size();
      if (parts[2].substr(k, e - k) == "ro") m->read_only = true;
      k = e + 1;
    }
  }
  return std::nullopt;
}

Denial ParseMount(const json& mount, const std::string& field, MountRequest* m) {
  m->field = field;
  AUTHZ_GET(type, StringField(mount, "type", field + ".Type"));
  AUTHZ_GET(source, StringField(mount, "source", field + ".Source"));
  AUTHZ_GET(target, StringField(mount, "target", field + ".Target"));
  AUTHZ_GET(read_only, BoolField(mount, "readonly", field + ".ReadOnly"));
  if (type != "bind" && type != "volume" && type != "tmpfs") {
    return Deny("mounts", field + ".Type", "mount type " + Quote(type) + " is not allowed");
  }
  m->type = type;
  m->source = source;
  m->target = CleanPath(target);
  m->read_only = read_only;
  const json* volume_options = Member(mount, "volumeoptions");
  const json* config = volume_options ? Member(*volume_options, "driverconfig") : nullptr;
  if (config != nullptr) {
    std::string f = field + ".VolumeOptions.DriverConfig";
    AUTHZ_GET(name, StringField(*config, "name", f + ".Name"));
    AUTHZ_GET(options, StringMapField(*config, "options", f + ".Options"));
    AUTHZ_TRY(CheckPluginName(name, f + ".Name", "volume driver"));
    m->driver = name;
    m->options = options;
  }
  return std::nullopt;
}

// The driver dockerd will use for volume mount `m`; "" when unknown.
Denial EffectiveDriver(Ctx& c, const MountRequest& m, std::string* driver) {
  if (!m.source.empty()) {
    auto info = c.engine.InspectVolume(m.source);
    if (info.ok()) {
      *driver = info->driver;
      return std::nullopt;
    }
    if (info.error().kind() != ErrorKind::kNotFound) {
      return Deny("resolve", m.field,
                  "volume " + Quote(m.source) + " cannot be inspected: " + info.error().message());
    }
  }
  *driver = m.driver.empty() ? "local" : m.driver;
  return std::nullopt;
}

// Whether the named volume `m` mounts exists; its users are then judged.
Denial CheckExistingUsers(Ctx& c, const MountRequest& m, bool desktop_extra) {
  if (m.source.empty()) return std::nullopt;  // anonymous: made for this container
  auto info = c.engine.InspectVolume(m.source);
  if (!info.ok()) return std::nullopt;  // EffectiveDriver judged the lookup already
  return CheckVolumeUsers(c, m.source, m.field, desktop_extra);
}

Denial CheckOne(Ctx& c, const MountRequest& m, bool privileged, bool* has_data_root) {
  const Rules& rules = c.rules;
  if (m.type == "bind") {
    std::string path = CleanPath(m.source);
    for (const auto& allowed : rules.host_paths) {
      if (PathWithin(path, allowed)) return std::nullopt;
    }
    return Deny("host_paths", m.field, "host path " + Quote(m.source) + " is not allowed");
  }
  bool at_data_root = privileged && m.target == c.desktop->data_root;
  if (m.type == "tmpfs") {
    if (at_data_root) {
      return c.DenyDesktop("data_root", m.field,
                           "tmpfs at " + Quote(m.target) + " is not a helixvol volume");
    }
    return std::nullopt;
  }
  std::string driver;
  AUTHZ_TRY(EffectiveDriver(c, m, &driver));
  std::string what = m.source.empty() ? "anonymous volume" : "volume " + Quote(m.source);
  bool helixvol = IsHelixvolDriver(rules, driver);
  if (!helixvol && !SamePlugin(rules.volume_drivers, driver)) {
    return Deny("volume_drivers", m.field, "volume driver " + Quote(driver) + " is not allowed");
  }
  if (CleanPluginName(driver) == "local:latest" && !m.options.empty()) {
    return Deny("volumes.local_options", m.field + ".VolumeOptions.DriverConfig.Options",
                "local volume options " + Quote(m.options.begin()->first) +
                    " are not allowed (they can bind host paths)");
  }
  if (helixvol) {
    AUTHZ_TRY(CheckHelixvolOptions(c, m.options, m.field + ".VolumeOptions.DriverConfig.Options"));
  }
  if (!privileged) {
    if (helixvol) {
      return Deny("ordinary.helixvol", m.field,
                  what + " of driver " + Quote(driver) +
                      " is a desktop data root; ordinary containers cannot mount it");
    }
    return CheckExistingUsers(c, m, false);
  }
  if (at_data_root) {
    if (!helixvol) {
      return c.DenyDesktop(
          "data_root", m.field,
          what + " at " + Quote(m.target) + " has driver " + Quote(driver) + ", not helixvol");
    }
    AUTHZ_TRY(CheckDataRootSession(c, m.source, m.field));
    AUTHZ_TRY(CheckDataRootOptions(c, m.source, m.options, m.field));
    *has_data_root = true;
    return std::nullopt;
  }
  const DesktopRules& p = *c.desktop;
  if (helixvol || !SamePlugin(p.extra_volume_drivers, driver)) {
    return c.DenyDesktop("extra_volumes", m.field,
                         what + " of driver " + Quote(driver) + " at " + Quote(m.target) +
                             " is not allowed besides the data root");
  }
  if (p.extra_volumes_read_only && !m.read_only) {
    return c.DenyDesktop("extra_volumes", m.field,
                         what + " at " + Quote(m.target) + " must be read-only");
  }
  return CheckExistingUsers(c, m, true);
}

Denial CheckVolumesFrom(Ctx& c, const json& hc, bool privileged) {
  AUTHZ_GET(from, StringsField(hc, "volumesfrom", "HostConfig.VolumesFrom"));
  for (size_t i = 0; i < from.size(); ++i) {
    std::string field = "HostConfig.VolumesFrom[" + std::to_string(i) + "]";
    if (privileged) {
      return c.DenyDesktop("volumes_from", field,
                           "volumes from " + Quote(from[i]) + " are not allowed");
    }
    std::string ref = from[i].substr(0, from[i].find(':'));
    ContainerInfo info;
    AUTHZ_TRY(ResolveContainerRef(c, ref, field, RefUse::kBinding, &info));
    if (auto why = ProtectionOf(c, info)) {
      return Deny("ordinary.volumes_from", field,
                  "volumes from container " + Quote(ref) + " are not allowed: " + why->reason);
    }
  }
  return std::nullopt;
}

}  // namespace

Denial CheckMounts(Ctx& c, const json& hc, bool privileged) {
  AUTHZ_GET(volume_driver, StringField(hc, "volumedriver", "HostConfig.VolumeDriver"));
  AUTHZ_TRY(CheckPluginName(volume_driver, "HostConfig.VolumeDriver", "volume driver"));
  const bool helixvol_default = IsHelixvolDriver(c.rules, volume_driver);
  if (!privileged && helixvol_default) {
    return Deny("ordinary.helixvol", "HostConfig.VolumeDriver",
                "volume driver " + Quote(volume_driver) +
                    " makes desktop data roots; ordinary containers cannot use it");
  }
  // The image's own VOLUMEs become volumes of this driver too, unseen here.
  if (!volume_driver.empty() && !helixvol_default &&
      !SamePlugin(c.rules.volume_drivers, volume_driver)) {
    return Deny("volume_drivers", "HostConfig.VolumeDriver",
                "volume driver " + Quote(volume_driver) + " is not allowed");
  }
  std::vector<MountRequest> mounts;
  AUTHZ_GET(binds, StringsField(hc, "binds", "HostConfig.Binds"));
  for (size_t i = 0; i < binds.size(); ++i) {
    MountRequest m;
    AUTHZ_TRY(
        ParseBind(binds[i], "HostConfig.Binds[" + std::to_string(i) + "]", volume_driver, &m));
    mounts.push_back(std::move(m));
  }
  AUTHZ_GET(specs, ObjectsField(hc, "mounts", "HostConfig.Mounts"));
  for (size_t i = 0; i < specs.size(); ++i) {
    MountRequest m;
    AUTHZ_TRY(ParseMount(specs[i], "HostConfig.Mounts[" + std::to_string(i) + "]", &m));
    mounts.push_back(std::move(m));
  }
  // The body's Volumes: anonymous volumes of VolumeDriver, as the image's.
  if (const json* volumes = Member(c.Body(), "volumes"); volumes && volumes->is_object()) {
    for (const auto& [path, unused] : volumes->items()) {
      MountRequest m;
      m.field = "Volumes[" + Quote(path) + "]";
      m.type = "volume";
      m.target = CleanPath(path);
      m.driver = volume_driver;
      mounts.push_back(std::move(m));
    }
  }
  AUTHZ_GET(tmpfs, StringMapField(hc, "tmpfs", "HostConfig.Tmpfs"));
  for (const auto& [path, opts] : tmpfs) {
    MountRequest m;
    m.field = "HostConfig.Tmpfs[" + Quote(path) + "]";
    m.type = "tmpfs";
    m.target = CleanPath(path);
    mounts.push_back(std::move(m));
  }
  bool has_data_root = false;
  for (const auto& m : mounts) AUTHZ_TRY(CheckOne(c, m, privileged, &has_data_root));
  if (privileged && !has_data_root) {
    return c.DenyDesktop("data_root", "HostConfig.Mounts",
                         "a helixvol volume at " + Quote(c.desktop->data_root) + " is required");
  }
  return CheckVolumesFrom(c, hc, privileged);
}

}  // namespace helix::authz
