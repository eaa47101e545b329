#include "authz-plugin/docker/net_addr.h"

#include <arpa/inet.h>

#include <algorithm>

namespace helix::authz {
namespace {

IpNet Masked(IpAddress address, int prefix) {
  for (size_t i = 0; i < address.size(); ++i) {
    const int keep = std::clamp(prefix - static_cast<int>(i) * 8, 0, 8);
    address.bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  return {address, prefix};
}

}  // namespace

size_t IpAddress::size() const { return family == AF_INET ? 4 : 16; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string IpNet::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

std::optional<IpAddress> ParseIp(std::string_view text) {
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

std::optional<IpNet> ParseCidr(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = ParseIp(text.substr(0, slash));
  const std::string_view bits = text.substr(slash + 1);
  if (!address || bits.empty() || bits.size() > 3 ||
      !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int prefix = std::stoi(std::string(bits));
  if (prefix > static_cast<int>(address->size()) * 8) return std::nullopt;
  return Masked(*address, prefix);
}

bool NetContains(const IpNet& outer, const IpAddress& address) {
  if (address.family != outer.address.family) return false;
  return Masked(address, outer.prefix).address == outer.address;
}

bool NetContains(const IpNet& outer, const IpNet& inner) {
  return inner.prefix >= outer.prefix && NetContains(outer, inner.address);
}

bool NetsOverlap(const IpNet& a, const IpNet& b) { return NetContains(a, b) || NetContains(b, a); }

std::optional<std::string> ReservedRange(const IpNet& net) {
  static const std::pair<const char*, const char*> kRanges[] = {
      {"0.0.0.0/8", "unspecified"}, {"127.0.0.0/8", "loopback"}, {"169.254.0.0/16", "link-local"},
      {"224.0.0.0/4", "multicast"}, {"::/128", "unspecified"},   {"::1/128", "loopback"},
      {"fe80::/10", "link-local"},  {"ff00::/8", "multicast"}};
  for (const auto& [cidr, name] : kRanges) {
    if (NetsOverlap(*ParseCidr(cidr), net)) return std::string(name);
  }
  return std::nullopt;
}

}  // namespace helix::authz
