// Plugin names (volume, network and log drivers) the way dockerd resolves
// them, so that one plugin has one name in the policy's comparisons.
//
// dockerd first asks its store of managed plugins, which normalises the name
// as an image reference ("helixvol", "helixvol:latest",
// "docker.io/library/helixvol:latest" are one plugin) and, failing that,
// matches it as a prefix of a plugin's ID; then it looks for a host-service
// socket by joining the raw name onto /run/docker/plugins, so "./helixvol"
// and "x/../helixvol" reach helixvol.sock. A name is therefore accepted only
// in the reference grammar (lower-case components, no "." or ".." segments,
// an optional tag, no digest) and not as hex that could be an ID prefix,
// and it is compared in its familiar, tagged form.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace helix::authz {

// The familiar, tagged form of a plugin name ("helixvol" and
// "docker.io/library/helixvol" -> "helixvol:latest"); nullopt for a name
// that is not in the reference grammar ("./helixvol", "x/../helixvol") or
// that is hex, which dockerd could read as a plugin ID prefix.
std::optional<std::string> CleanPluginName(std::string_view name);

// Whether `driver` names the same plugin as one of `names`.
bool SamePlugin(const std::vector<std::string>& names, const std::string& driver);

}  // namespace helix::authz
