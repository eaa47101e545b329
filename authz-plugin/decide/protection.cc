// Which existing containers are off limits, and why.
//
// A container is protected by what it is (privileged-equivalent, or holding
// a helixvol data root: a desktop) or by what it shares with one: a
// container in a desktop's network, PID or IPC namespace, or one that mounts
// a volume a desktop mounts, reaches into that desktop as surely as exec
// does. Lookups that fail count as protection (fail closed).
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

// Namespace-sharing modes as dockerd keeps them after create:
// "container:<full ID>" (adaptSharedNamespaceContainer).
constexpr std::pair<const char*, const char*> kSharedModes[] = {
    {"networkmode", "network"}, {"pidmode", "PID"}, {"ipcmode", "IPC"}};

// How deep a chain of namespace sharing is followed (A in B's network, B in
// C's, ...); deeper chains count as protected.
constexpr int kMaxDepth = 3;

std::string Short(const ContainerInfo& info) {
  return info.name.empty() ? info.id.substr(0, 12) : info.name.substr(1);
}

std::optional<Protection> Own(const Rules& rules, const ContainerInfo& info) {
  // On cgroup v1 dockerd fills in CgroupnsMode "host" for every container
  // that asked for nothing: in an inspected container it is the default, not
  // a request (a create that asks for it is judged by PrivilegeReason).
  json hc = info.host_config.is_object() ? info.host_config : json::object();
  for (auto it = hc.begin(); it != hc.end(); ++it) {
    if (it.value() == "host" && Member(json{{it.key(), true}}, "cgroupnsmode") != nullptr) {
      hc.erase(it);
      break;
    }
  }
  auto shape = ShapeOf(rules, hc);
  if (!shape.ok()) {
    return Protection{"its HostConfig cannot be read: " + shape.error().message(), true,
                      &rules.privileged};
  }
  if (shape->desktop == &rules.userns) {
    return Protection{"it is a user-namespaced desktop (" + shape->reason + ")", true,
                      &rules.userns};
  }
  if (shape->desktop != nullptr) {
    return Protection{"it is privileged (" + shape->reason + ")", true, &rules.privileged};
  }
  for (const auto& m : info.mounts) {
    if (m.type == "volume" && IsHelixvolDriver(rules, m.driver)) {
      return Protection{"it mounts helixvol volume " + Quote(m.name), true, &rules.privileged};
    }
  }
  return std::nullopt;
}

std::optional<Protection> ProtectionAt(Ctx& c, const ContainerInfo& info, int depth);

std::optional<Protection> SharedNamespace(Ctx& c, const ContainerInfo& info, int depth) {
  for (const auto& [key, what] : kSharedModes) {
    const json* mode = Member(info.host_config, key);
    if (mode == nullptr || !mode->is_string()) continue;
    const std::string value = mode->get<std::string>();
    if (value.rfind("container:", 0) != 0) continue;
    const std::string ref = value.substr(10);
    if (depth >= kMaxDepth) {
      return Protection{std::string("its ") + what + " namespace is shared along too long a chain",
                        false, &c.rules.privileged};
    }
    auto other = c.engine.InspectContainer(ref);
    if (!other.ok()) {
      if (other.error().kind() == ErrorKind::kNotFound) continue;  // nothing left to share
      return Protection{std::string("the container whose ") + what +
                            " namespace it shares cannot be checked: " + other.error().message(),
                        false, &c.rules.privileged};
    }
    if (auto p = ProtectionAt(c, *other, depth + 1)) {
      return Protection{std::string("it shares the ") + what + " namespace of container " +
                            Quote(Short(*other)) + ", and " + p->reason,
                        false, p->shape};
    }
  }
  return std::nullopt;
}

std::optional<Protection> SharedVolume(Ctx& c, const ContainerInfo& info) {
  for (const auto& m : info.mounts) {
    if (m.type != "volume" || m.name.empty()) continue;
    auto users = c.engine.ContainersUsingVolume(m.name);
    if (!users.ok()) {
      return Protection{"the users of its volume " + Quote(m.name) +
                            " cannot be checked: " + users.error().message(),
                        false, &c.rules.privileged};
    }
    for (const std::string& id : *users) {
      if (id == info.id) continue;
      auto other = c.engine.InspectContainer(id);
      if (!other.ok()) {
        if (other.error().kind() == ErrorKind::kNotFound) continue;  // removed meanwhile
        return Protection{"a user of its volume " + Quote(m.name) +
                              " cannot be checked: " + other.error().message(),
                          false, &c.rules.privileged};
      }
      if (auto p = Own(c.rules, *other)) {
        return Protection{"its volume " + Quote(m.name) + " is mounted by container " +
                              Quote(Short(*other)) + ", and " + p->reason,
                          false, p->shape};
      }
    }
  }
  return std::nullopt;
}

std::optional<Protection> ProtectionAt(Ctx& c, const ContainerInfo& info, int depth) {
  if (auto p = Own(c.rules, info)) return p;
  if (auto p = SharedNamespace(c, info, depth)) return p;
  return SharedVolume(c, info);
}

}  // namespace

std::optional<Protection> ProtectionOf(Ctx& c, const ContainerInfo& info) {
  return ProtectionAt(c, info, 0);
}

std::optional<Protection> OwnProtection(const Rules& rules, const ContainerInfo& info) {
  return Own(rules, info);
}

Denial CheckVolumeUsers(Ctx& c, const std::string& volume, const std::string& field, bool desktop) {
  auto users = c.engine.ContainersUsingVolume(volume);
  if (!users.ok()) {
    return Deny(
        "resolve", field,
        "the users of volume " + Quote(volume) + " cannot be checked: " + users.error().message());
  }
  for (const std::string& id : *users) {
    auto other = c.engine.InspectContainer(id);
    if (!other.ok()) {
      if (other.error().kind() == ErrorKind::kNotFound) continue;
      return Deny(
          "resolve", field,
          "a user of volume " + Quote(volume) + " cannot be checked: " + other.error().message());
    }
    auto own = Own(c.rules, *other);
    if (!desktop) {
      if (!own) continue;
      return Deny("volumes.protected", field,
                  "volume " + Quote(volume) + " is mounted by protected container " +
                      Quote(Short(*other)) + " (" + own->reason +
                      "); ordinary containers cannot mount it");
    }
    // A desktop reads its extra volumes as root on the host: nothing but
    // other desktops, read-only like this one, may have them mounted.
    bool read_only = true;
    for (const auto& m : other->mounts) {
      if (m.type == "volume" && m.name == volume && m.rw) read_only = false;
    }
    if (!own || !read_only) {
      return c.DenyDesktop("extra_volumes", field,
                           "volume " + Quote(volume) + " is in use by container " +
                               Quote(Short(*other)) + (own ? " read-write" : "") +
                               "; a desktop's extra volumes must not be writable by others");
    }
  }
  return std::nullopt;
}

}  // namespace helix::authz
