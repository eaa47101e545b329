// Networks: a bridge network with a small set of options, its addresses
// within the policy's pools, and connecting ordinary containers. A bridge's
// options can name an existing host interface
// (com.docker.network.bridge.name) or change host-wide settings, so only
// listed options pass; a subnet can shadow the host's own routes (link-local
// 169.254/16 reaches cloud metadata services), so only pool addresses pass;
// IPv6 switches on IPv6 forwarding on the host; the host network is never
// reachable.
#include <sys/socket.h>

#include "authz-plugin/decide/checks.h"
#include "authz-plugin/decide/request_fields.h"
#include "authz-plugin/docker/net_addr.h"
#include "common/quote.h"

namespace helix::authz {
namespace {

// `text` (a subnet or range "a.b.c.d/n", or an address) lies within a pool.
Denial CheckPoolAddress(Ctx& c, const std::string& text, const std::string& field) {
  std::optional<IpNet> net = ParseCidr(text);
  if (!net) {
    if (auto ip = ParseIp(text)) net = IpNet{*ip, static_cast<int>(ip->size()) * 8};
  }
  if (!net) {
    return Deny("networks.addresses", field, Quote(text) + " is not an address or a range");
  }
  if (net->address.family == AF_INET6 && !c.rules.networks.ipv6) {
    return Deny("networks.ipv6", field, "IPv6 address " + Quote(text) + " is not allowed");
  }
  if (auto reserved = ReservedRange(*net)) {
    return Deny("networks.addresses", field,
                Quote(text) + " is in the " + *reserved + " range, which is not allowed");
  }
  for (const std::string& pool : c.rules.networks.pools) {
    if (NetContains(*ParseCidr(pool), *net)) return std::nullopt;
  }
  return Deny("networks.addresses", field,
              Quote(text) + " is not within the policy's network pools");
}

Denial CheckIpam(Ctx& c, const nlohmann::json& ipam) {
  AUTHZ_GET(ipam_driver, StringField(ipam, "driver", "IPAM.Driver"));
  if (!ipam_driver.empty() && ipam_driver != "default") {
    return Deny("networks", "IPAM.Driver", "IPAM driver " + Quote(ipam_driver) + " is not allowed");
  }
  AUTHZ_GET(configs, ObjectsField(ipam, "config", "IPAM.Config"));
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string field = "IPAM.Config[" + std::to_string(i) + "]";
    for (const auto& [key, name] :
         {std::pair{"subnet", "Subnet"}, {"iprange", "IPRange"}, {"gateway", "Gateway"}}) {
      AUTHZ_GET(value, StringField(configs[i], key, field + "." + name));
      if (!value.empty()) AUTHZ_TRY(CheckPoolAddress(c, value, field + "." + name));
    }
    AUTHZ_GET(aux, StringMapField(configs[i], "auxiliaryaddresses", field + ".AuxiliaryAddresses"));
    for (const auto& [host, address] : aux) {
      AUTHZ_TRY(CheckPoolAddress(c, address, field + ".AuxiliaryAddresses[" + Quote(host) + "]"));
    }
  }
  return std::nullopt;
}

}  // namespace

Denial CheckNetworkCreate(Ctx& c) {
  const nlohmann::json& body = c.Body();
  AUTHZ_GET(driver, StringField(body, "driver", "Driver"));
  AUTHZ_TRY(CheckPluginName(driver, "Driver", "network driver"));
  if (!driver.empty() && !SamePlugin(c.rules.networks.drivers, driver)) {
    return Deny("networks.drivers", "Driver",
                "network driver " + Quote(driver) + " is not allowed");
  }
  AUTHZ_GET(options, StringMapField(body, "options", "Options"));
  for (const auto& [key, value] : options) {
    if (!Contains(c.rules.networks.options, key)) {
      return Deny("networks.options", "Options[" + Quote(key) + "]",
                  "network option " + Quote(key) + " is not allowed");
    }
  }
  for (const auto& [key, field] : {std::pair{"ingress", "Ingress"}, {"configonly", "ConfigOnly"}}) {
    AUTHZ_GET(set, BoolField(body, key, field));
    if (set) return Deny("networks", field, "true is not allowed (swarm)");
  }
  if (Member(body, "configfrom") != nullptr) {
    return Deny("networks", "ConfigFrom", "network configs from other networks are not allowed");
  }
  AUTHZ_GET(ipv6, BoolField(body, "enableipv6", "EnableIPv6"));
  if (ipv6 && !c.rules.networks.ipv6) {
    return Deny("networks.ipv6", "EnableIPv6",
                "true is not allowed (it switches on IPv6 forwarding on the host)");
  }
  if (const nlohmann::json* ipam = Member(body, "ipam")) AUTHZ_TRY(CheckIpam(c, *ipam));
  return std::nullopt;
}

Denial CheckNetworkConnect(Ctx& c) {
  const std::string route = c.req.method + " " + c.req.path;
  if (c.params["id"] == "host") {
    return Deny("namespaces", route, "network \"host\" is not allowed");
  }
  auto network = c.engine.InspectNetwork(c.params["id"]);
  if (network.ok() && (network->driver == "host" || network->name == "host")) {
    return Deny("namespaces", route,
                "network " + Quote(c.params["id"]) + " is the host network, which is not allowed");
  }
  if (!network.ok() && network.error().kind() != ErrorKind::kNotFound) {
    return Deny(
        "resolve", route,
        "network " + Quote(c.params["id"]) + " cannot be inspected: " + network.error().message());
  }
  AUTHZ_GET(ref, StringField(c.Body(), "container", "Container"));
  if (const nlohmann::json* settings = Member(c.Body(), "endpointconfig")) {
    AUTHZ_TRY(CheckEndpointSettings(*settings, "EndpointConfig"));
  }
  ContainerInfo info;
  AUTHZ_TRY(ResolveContainerRef(c, ref, "Container", RefUse::kRequest, &info));
  if (auto why = ProtectionOf(c, info)) {
    return Deny("networks", "Container",
                "connecting container " + Quote(ref) + " is not allowed: " + why->reason);
  }
  return std::nullopt;
}

}  // namespace helix::authz
