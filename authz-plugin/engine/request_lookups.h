// The engine lookups of one decision: cached, and bounded.
//
// A decision that resolves names through the engine opens a window between
// its lookups and dockerd's own resolution of the same names. One request
// that makes many lookups (a create with a hundred VolumesFrom entries, say)
// would stretch that window at will, so that someone could delete and
// re-create what a name points to in between. RequestLookups caps the number
// of lookups one decision may make (kMaxLookups; past it, every lookup
// fails and the decision denies) and answers a repeated lookup from its
// cache, so that one decision sees one consistent engine.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "authz-plugin/engine/engine_view.h"

namespace helix::authz {

class RequestLookups : public EngineView {
 public:
  // Enough for a desktop create (image, data root, a few extra volumes and
  // the containers using them) with room to spare; far too few to stretch
  // a decision by seconds.
  static constexpr int kMaxLookups = 32;

  explicit RequestLookups(EngineView& engine) : engine_(engine) {}

  Result<ContainerInfo> InspectContainer(const std::string& ref) override;
  Result<ImageInfo> InspectImage(const std::string& ref) override;
  Result<VolumeInfo> InspectVolume(const std::string& name) override;
  Result<NetworkInfo> InspectNetwork(const std::string& ref) override;
  Result<std::vector<std::string>> ContainersUsingVolume(const std::string& name) override;
  // Not cached here: the Authorizer keeps the engine's facts across requests.
  Result<EngineFacts> Facts() override { return engine_.Facts(); }

  int made() const { return made_; }  // lookups that reached the engine

 private:
  // The cached answer for `key`, else one lookup spent on `fetch` and its
  // answer kept (errors included: what was not found stays not found).
  template <typename T, typename Fetch>
  Result<T> Cached(std::map<std::string, Result<T>>& cache, const std::string& key,
                   const char* what, Fetch fetch);

  EngineView& engine_;
  int made_ = 0;
  std::map<std::string, Result<ContainerInfo>> containers_;
  std::map<std::string, Result<ImageInfo>> images_;
  std::map<std::string, Result<VolumeInfo>> volumes_;
  std::map<std::string, Result<NetworkInfo>> networks_;
  std::map<std::string, Result<std::vector<std::string>>> users_;
};

}  // namespace helix::authz
