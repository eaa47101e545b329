// Go's json.Compact for the one use both plugins have: the docker CLI sends a
// seccomp profile's JSON inline, compacted, and a policy pins it by the
// digest of exactly those bytes (helixauthz), so whoever sends a profile on
// the CLI's behalf (helixvol preload) must compact it the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace helix {

// JSON with the white space outside strings removed, as Go's json.Compact
// (which the docker CLI applies to a seccomp profile before sending it)
// writes it; nullopt when a string is left open. Nothing is validated.
std::optional<std::string> CompactJson(std::string_view text);

}  // namespace helix
