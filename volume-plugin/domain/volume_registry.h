// The registry: every volume helixvol knows, each with its locks, and the
// names whose Create is under way. Mount, Unmount, Release, Remove and a
// clone's source all reach a volume the same way, FindAndLock.
//
// Locking: `mu_` guards the map and the creating set and is held only for
// look-ups. Each Volume has `op_mu` (held across slow work: mkfs, mount,
// unmount, a clone of it) and `state_mu` (held briefly around reads and
// writes of its VolumeState). Get, List and Path take only `mu_` and
// `state_mu`, so they never wait behind slow work on any volume.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "volume-plugin/domain/volume_meta.h"

namespace helix::vol {

// What the manager knows of one volume beyond its name.
struct VolumeState {
  VolumeMeta meta;
  bool mounted = false;
  std::string loop_device;
  dev_t loop_rdev = 0;  // tells helixvol's mount at the mount point from anyone else's
  bool removed = false;
  // Why the volume cannot be mounted as it is (its meta.json is unreadable,
  // its image is gone); it is still listed, with this in Status, and Remove
  // and Release clean it up. Empty for a whole volume.
  std::string broken;
  // Why meta.json on disk is behind `meta` (a write failed, as on a full
  // pool); cleared by the next write that succeeds.
  std::string unsaved;
};

struct Volume : VolumeState {
  std::mutex op_mu;  // VolumeState's members are guarded by state_mu
  mutable std::mutex state_mu;
};
using VolumePtr = std::shared_ptr<Volume>;

// A consistent copy of a volume's state, taken under its state_mu, so slow
// work can go on without holding it.
VolumeState StateOf(const Volume& v);

// A volume found in the registry, its op_mu held for as long as this lives.
struct LockedVolume {
  VolumePtr volume;
  std::unique_lock<std::mutex> op;
  Volume& operator*() const { return *volume; }
  Volume* operator->() const { return volume.get(); }
};

class VolumeRegistry {
 public:
  // NotFound ("volume \"x\" not found") for a name not registered.
  Result<VolumePtr> Find(const std::string& name);
  // Find, then take the volume's op_mu. A volume removed while this waited
  // for the lock is not found either. `context` ("mount volume \"x\""), when
  // given, goes in front of the error.
  Result<LockedVolume> FindAndLock(const std::string& name, std::string_view context = {});

  // Waits until no Create of `name` is under way (a retry waits for the
  // first). Returns the volume when it exists; otherwise reserves the name
  // for the caller, who must call EndCreate, and returns nullptr.
  VolumePtr BeginCreate(const std::string& name);
  // Ends a reservation; registers `made` under the name when it is set.
  void EndCreate(const std::string& name, VolumePtr made);

  void Add(const std::string& name, VolumePtr v);
  void Erase(const std::string& name);
  std::vector<std::pair<std::string, VolumePtr>> All();
  size_t Size();

 private:
  std::mutex mu_;
  std::condition_variable creating_cv_;
  std::map<std::string, VolumePtr> volumes_;  // guarded by mu_
  std::set<std::string> creating_;            // guarded by mu_
};

}  // namespace helix::vol
