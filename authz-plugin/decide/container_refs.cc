// Container references: a name or ID judged by helixauthz must mean the same
// container when dockerd acts on it a moment later.
//
// dockerd resolves a reference as a full ID, then an exact name, then a
// unique ID prefix (daemon.GetContainer). A container *named* like another
// container's ID prefix therefore shadows that container only while it
// exists: judged against the look-alike, acted on against the real one once
// the look-alike is deleted in between. Three rules close the class:
//  * no container may be created or renamed to a name dockerd could read as
//    an ID or ID prefix (lower-case hex);
//  * a reference that resolved by a name of that shape (a container made
//    before helixauthz was in force) is refused as ambiguous;
//  * where a create binds to another container for good (namespace modes,
//    VolumesFrom, links), the reference must be a full ID or an exact name,
//    never a prefix that a later container could also match.
// RequestLookups bounds how long one decision's lookups can take.
#include "authz-plugin/decide/checks.h"
#include "common/quote.h"

namespace helix::authz {

bool LooksLikeIdPrefix(std::string_view name) {
  if (!name.empty() && name[0] == '/') name.remove_prefix(1);
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Denial CheckNewContainerName(const std::string& name, const std::string& field) {
  if (!LooksLikeIdPrefix(name)) return std::nullopt;
  return Deny("containers.names", field,
              "container name " + Quote(name) +
                  " is not allowed: dockerd could read it as a container ID prefix");
}

Denial ResolveContainerRef(Ctx& c, const std::string& ref, const std::string& field, RefUse use,
                           ContainerInfo* out) {
  auto info = c.engine.InspectContainer(ref);
  if (!info.ok()) {
    return Deny("resolve", field,
                "container " + Quote(ref) + " cannot be resolved: " + info.error().message());
  }
  const bool by_id = info->id == ref;
  const bool by_name = !by_id && (info->name == ref || info->name == "/" + ref);
  if (by_name && LooksLikeIdPrefix(ref)) {
    return Deny("resolve", field,
                "container name " + Quote(ref) +
                    " is ambiguous: it could also be read as an ID prefix; use the full ID");
  }
  if (!by_id && !by_name) {
    const bool by_prefix = info->id.rfind(ref, 0) == 0;
    if (!by_prefix) {
      return Deny("resolve", field,
                  "container " + Quote(ref) + " resolved to " + Quote(info->id) +
                      ", which is neither its ID nor its name");
    }
    if (use == RefUse::kBinding) {
      return Deny("resolve", field,
                  "ID prefix " + Quote(ref) +
                      " is not allowed here: use the container's full ID or its name");
    }
  }
  *out = std::move(*info);
  return std::nullopt;
}

}  // namespace helix::authz
