#include "authz-plugin/engine/request_lookups.h"

#include "common/quote.h"

namespace helix::authz {

template <typename T, typename Fetch>
Result<T> RequestLookups::Cached(std::map<std::string, Result<T>>& cache, const std::string& key,
                                 const char* what, Fetch fetch) {
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  if (made_ >= kMaxLookups) {
    return Error(ErrorKind::kBusy, "the request needs more than " + std::to_string(kMaxLookups) +
                                       " engine lookups (at " + what + " " + Quote(key) +
                                       "); split it into smaller requests");
  }
  ++made_;
  return cache.emplace(key, fetch()).first->second;
}

Result<ContainerInfo> RequestLookups::InspectContainer(const std::string& ref) {
  return Cached(containers_, ref, "container", [&] { return engine_.InspectContainer(ref); });
}

Result<ImageInfo> RequestLookups::InspectImage(const std::string& ref) {
  return Cached(images_, ref, "image", [&] { return engine_.InspectImage(ref); });
}

Result<VolumeInfo> RequestLookups::InspectVolume(const std::string& name) {
  return Cached(volumes_, name, "volume", [&] { return engine_.InspectVolume(name); });
}

Result<NetworkInfo> RequestLookups::InspectNetwork(const std::string& ref) {
  return Cached(networks_, ref, "network", [&] { return engine_.InspectNetwork(ref); });
}

Result<std::vector<std::string>> RequestLookups::ContainersUsingVolume(const std::string& name) {
  return Cached(users_, name, "containers using volume",
                [&] { return engine_.ContainersUsingVolume(name); });
}

}  // namespace helix::authz
