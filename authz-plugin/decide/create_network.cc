// How a container create reaches other containers and the host's network:
// namespace modes, the networks it joins, legacy links and published ports.
//
// Host namespaces are refused for every container, in every spelling dockerd
// takes: "host", and a network name, ID or ID prefix that resolves to the
// host network. Sharing another container's namespace ("container:<x>") or
// linking to it binds the new container to that one for good (dockerd keeps
// its ID), so the reference must be exact and the container unprotected.
#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "authz-plugin/docker/net_addr.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

// `ref` from "container:<ref>", "<ref>:<alias>" and the like: an exact,
// unprotected container.
Denial CheckBoundContainer(Ctx& c, const std::string& ref, const std::string& field,
                           const std::string& what, const char* rule) {
  ContainerInfo info;
  AUTHZ_TRY(ResolveContainerRef(c, ref, field, RefUse::kBinding, &info));
  if (auto why = ProtectionOf(c, info)) {
    return Deny(rule, field, what + " is not allowed: " + why->reason);
  }
  return std::nullopt;
}

// A network a container joins by name or ID: never the host network.
Denial CheckNetworkRef(Ctx& c, const std::string& ref, const std::string& field) {
  if (ref == "host") return Deny("namespaces", field, "network \"host\" is not allowed");
  if (ref.empty() || ref == "default" || ref == "bridge" || ref == "none") return std::nullopt;
  auto network = c.engine.InspectNetwork(ref);
  if (!network.ok()) {
    // dockerd refuses a network that does not exist just the same.
    if (network.error().kind() == ErrorKind::kNotFound) return std::nullopt;
    return Deny("resolve", field,
                "network " + Quote(ref) + " cannot be inspected: " + network.error().message());
  }
  if (network->driver == "host" || network->name == "host") {
    return Deny("namespaces", field,
                "network " + Quote(ref) + " is the host network (" + network->name +
                    "), which is not allowed");
  }
  return std::nullopt;
}

// `plain` lists the modes that share nothing; with `network`, any other
// value is a network name, judged by CheckNetworkRef.
Denial CheckNamespaceMode(Ctx& c, const json& hc, const char* key, const char* field,
                          bool privileged, std::initializer_list<const char*> plain,
                          bool network = false) {
  AUTHZ_GET(mode, StringField(hc, key, field));
  for (const char* ok : plain) {
    if (mode == ok) return std::nullopt;
  }
  if (mode == "host") {
    return Deny("namespaces", field, "host namespace " + Quote(mode) + " is not allowed");
  }
  if (mode.rfind("container:", 0) == 0) {
    if (privileged) {
      return c.DenyBecause("namespaces", field,
                           "sharing a namespace " + Quote(mode) + " is not allowed");
    }
    return CheckBoundContainer(c, mode.substr(10), field, "namespace " + Quote(mode), "namespaces");
  }
  if (network) return CheckNetworkRef(c, mode, field);
  return Deny("namespaces", field, "mode " + Quote(mode) + " is not allowed");
}

Denial CheckLinks(Ctx& c, const json& hc) {
  AUTHZ_GET(links, StringsField(hc, "links", "HostConfig.Links"));
  for (size_t i = 0; i < links.size(); ++i) {
    const std::string field = "HostConfig.Links[" + std::to_string(i) + "]";
    // opts.ParseLink: "name[:alias]", or "/name:/parent/alias" as inspect
    // shows an existing container's links.
    std::string name = links[i].substr(0, links[i].find(':'));
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    // A link hands the target's environment and address to the new
    // container.
    AUTHZ_TRY(CheckBoundContainer(c, name, field, "link to container " + Quote(name), "links"));
  }
  return std::nullopt;
}

Denial CheckEndpoints(Ctx& c, const json& endpoints, const std::string& prefix) {
  if (!endpoints.is_object()) return std::nullopt;
  for (const auto& [network, settings] : endpoints.items()) {
    const std::string field = prefix + "[" + Quote(network) + "]";
    AUTHZ_TRY(CheckNetworkRef(c, network, field));
    AUTHZ_TRY(CheckEndpointSettings(settings, field));
  }
  return std::nullopt;
}

Denial CheckPortBinding(const Rules& rules, const std::string& host_ip,
                        const std::string& host_port, const std::string& field) {
  auto ip = ParseIp(host_ip.empty() ? "0.0.0.0" : host_ip);
  if (!ip) {
    return Deny("published_ports", field + ".HostIp",
                "host address " + Quote(host_ip) + " is not an IP address");
  }
  const bool any = host_port.empty() || host_port == "0";
  PortRule asked;
  if (!any && (host_port == "*" || !ParsePortRange(host_port, &asked))) {
    return Deny("published_ports", field + ".HostPort",
                "host port " + Quote(host_port) + " is not a port or a range");
  }
  for (const PortRule& rule : rules.published_ports) {
    if (rule.host_ip != ip->ToString()) continue;
    if (rule.any_port || (!any && asked.first >= rule.first && asked.last <= rule.last)) {
      return std::nullopt;
    }
  }
  const std::string where = (host_ip.empty() ? "every address" : host_ip) + ", port " +
                            (any ? "picked by the engine" : host_port);
  return Deny("published_ports", field, "publishing on " + where + " is not allowed");
}

Denial CheckPublishedPorts(Ctx& c, const json& hc) {
  AUTHZ_GET(all, BoolField(hc, "publishallports", "HostConfig.PublishAllPorts"));
  if (all) AUTHZ_TRY(CheckPortBinding(c.rules, "", "", "HostConfig.PublishAllPorts"));
  const json* bindings = Member(hc, "portbindings");
  if (bindings == nullptr) return std::nullopt;
  if (!bindings->is_object()) {
    return BadBody(InvalidArgument("HostConfig.PortBindings: expected an object"));
  }
  for (const auto& [port, list] : bindings->items()) {
    const std::string field = "HostConfig.PortBindings[" + Quote(port) + "]";
    if (list.is_null()) continue;
    if (!list.is_array()) return BadBody(InvalidArgument(field + ": expected a list"));
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string item = field + "[" + std::to_string(i) + "]";
      AUTHZ_GET(ip, StringField(list[i], "hostip", item + ".HostIp"));
      AUTHZ_GET(host_port, StringField(list[i], "hostport", item + ".HostPort"));
      AUTHZ_TRY(CheckPortBinding(c.rules, ip, host_port, item));
    }
  }
  return std::nullopt;
}

}  // namespace

Denial CheckEndpointSettings(const json& settings, const std::string& field) {
  const json* ipam = Member(settings, "ipamconfig");
  if (ipam == nullptr) return std::nullopt;
  AUTHZ_GET(link_local, StringsField(*ipam, "linklocalips", field + ".IPAMConfig.LinkLocalIPs"));
  if (!link_local.empty()) {
    return Deny("networks.addresses", field + ".IPAMConfig.LinkLocalIPs",
                "link-local address " + Quote(link_local[0]) + " is not allowed");
  }
  return std::nullopt;
}

Denial CheckCreateNetworking(Ctx& c, const json& hc, bool privileged) {
  // "default", "bridge", "none" or a user-defined network pass.
  AUTHZ_TRY(CheckNamespaceMode(c, hc, "networkmode", "HostConfig.NetworkMode", privileged, {},
                               /*network=*/true));
  AUTHZ_TRY(CheckNamespaceMode(c, hc, "pidmode", "HostConfig.PidMode", privileged, {""}));
  AUTHZ_TRY(CheckNamespaceMode(c, hc, "ipcmode", "HostConfig.IpcMode", privileged,
                               {"", "private", "shareable", "none"}));
  AUTHZ_TRY(CheckNamespaceMode(c, hc, "utsmode", "HostConfig.UTSMode", privileged, {""}));
  AUTHZ_TRY(CheckNamespaceMode(c, hc, "usernsmode", "HostConfig.UsernsMode", privileged, {""}));
  AUTHZ_TRY(CheckNamespaceMode(c, hc, "cgroupnsmode", "HostConfig.CgroupnsMode", privileged,
                               {"", "private"}));
  AUTHZ_GET(cgroup, StringField(hc, "cgroup", "HostConfig.Cgroup"));
  if (!cgroup.empty()) {
    return Deny("namespaces", "HostConfig.Cgroup", "cgroup " + Quote(cgroup) + " is not allowed");
  }
  const json* networking = Member(c.Body(), "networkingconfig");
  const json* endpoints = networking ? Member(*networking, "endpointsconfig") : nullptr;
  if (endpoints != nullptr) {
    AUTHZ_TRY(CheckEndpoints(c, *endpoints, "NetworkingConfig.EndpointsConfig"));
  }
  AUTHZ_TRY(CheckLinks(c, hc));
  return CheckPublishedPorts(c, hc);
}

}  // namespace helix::authz
