// Networks: a bridge network with a small set of options, and connecting
// ordinary containers. A bridge's options can name an existing host
// interface (com.docker.network.bridge.name) or change host-wide settings,
// so only listed options pass; the "host" network is never reachable.
#include "authz-plugin/checks.h"
#include "authz-plugin/request_fields.h"
#include "common/quote.h"

namespace helix::authz {

Denial CheckNetworkCreate(Ctx& c) {
  const nlohmann::json& body = c.Body();
  AUTHZ_GET(driver, StringField(body, "driver", "Driver"));
  if (!driver.empty() && !Contains(c.rules.networks.drivers, driver)) {
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
  if (const nlohmann::json* ipam = Member(body, "ipam")) {
    AUTHZ_GET(ipam_driver, StringField(*ipam, "driver", "IPAM.Driver"));
    if (!ipam_driver.empty() && ipam_driver != "default") {
      return Deny("networks", "IPAM.Driver",
                  "IPAM driver " + Quote(ipam_driver) + " is not allowed");
    }
  }
  return std::nullopt;
}

Denial CheckNetworkConnect(Ctx& c) {
  if (c.params["id"] == "host") {
    return Deny("namespaces", c.req.method + " " + c.req.path, "network \"host\" is not allowed");
  }
  AUTHZ_GET(ref, StringField(c.Body(), "container", "Container"));
  ContainerInfo info;
  AUTHZ_TRY(ResolveContainer(c, ref, "Container", &info));
  if (auto why = ProtectedReason(c.rules, info)) {
    return Deny("networks", "Container",
                "connecting container " + Quote(ref) + " is not allowed: " + *why);
  }
  return std::nullopt;
}

}  // namespace helix::authz
