// IP addresses and prefixes as the policy compares them: for network pools
// ("10.210.0.0/16") and the host addresses published ports may bind.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace helix::authz {

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  size_t size() const;  // 4 or 16
  std::string ToString() const;
  bool operator==(const IpAddress& other) const = default;
};

struct IpNet {
  IpAddress address;  // with the host bits cleared
  int prefix = 0;
  std::string ToString() const;
};

// A literal address, as Go's net.ParseIP reads it for the common forms
// ("10.0.0.1", "fe80::1"); nullopt for anything else (names, zones, CIDRs).
std::optional<IpAddress> ParseIp(std::string_view text);

// "10.0.0.0/8" (host bits are cleared, as dockerd does); nullopt when it is
// not an address, a '/', and a prefix length the family allows.
std::optional<IpNet> ParseCidr(std::string_view text);

bool NetContains(const IpNet& outer, const IpAddress& address);
// Whether every address of `inner` is in `outer`.
bool NetContains(const IpNet& outer, const IpNet& inner);
// Whether the two share any address.
bool NetsOverlap(const IpNet& a, const IpNet& b);

// The special-purpose range `net` overlaps, if any: "link-local",
// "loopback", "multicast", "unspecified" ("0.0.0.0/8", "::/128"). Such
// ranges cannot be a container network's without touching the host's own
// routing.
std::optional<std::string> ReservedRange(const IpNet& net);

}  // namespace helix::authz
