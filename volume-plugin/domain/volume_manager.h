// VolumeManager: the domain of helixvol. One method per thing dockerd (or an
// operator) can ask; it orchestrates, and the rules live in pure parts:
//   pool_layout.h       where a volume's files are (the names, spelled once)
//   volume_registry.h   the volumes by name with their locks; FindAndLock
//   mount_references.h  who may mount, how references count
//   reconcile.h         what recovery at start does, as a plan
// The manager works through the system interfaces in system/system.h and
// system/file_system.h, so unit tests drive it with fakes and system tests with the
// real kernel. Its methods are spread by concern:
//   volume_manager.cc   construction, Create, Remove, meta.json saves
//   volume_clone.cc     clones and snapshots (CloneImage, GrowImage)
//   volume_mount.cc     Mount, Unmount, Release and the kernel mount behind them
//   volume_recovery.cc  Recover: read the facts, apply the reconcile plan
//   volume_view.cc      Get, List, Path
//   volume_space.cc     the pool's free space against its watermarks
// Locking is the registry's (volume_registry.h).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "volume-plugin/domain/create_options.h"
#include "volume-plugin/domain/pool_layout.h"
#include "volume-plugin/domain/reconcile.h"
#include "volume-plugin/domain/volume_meta.h"
#include "volume-plugin/domain/volume_registry.h"
#include "volume-plugin/system/file_system.h"
#include "volume-plugin/system/kernel_view.h"
#include "volume-plugin/system/pool.h"
#include "volume-plugin/system/pool_space.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

struct ManagerConfig {
  std::string state_dir = "/var/lib/helixvol";
  // Where volume directories live (PoolInfo::volumes_dir); empty means
  // <state_dir>/volumes.
  std::string pool_dir;
  CloneMethod clone_method = CloneMethod::kCopy;
  // A self-managed pool is mounted without online discard: Remove trims it
  // so that the space freed goes back to the disk under pool.img.
  bool trim_after_remove = false;
  // DEFAULT_FROM: volumes created without `from` (but not anonymous ones)
  // are cloned from this volume. Empty: none.
  std::string default_from;
  // DEFAULT_OWNER: "UID:GID" for data/ of volumes created without `owner`
  // (clones then keep their source's only when this is empty). Empty: none.
  std::string default_owner;
  // DEFAULT_IDMAP: `idmap` of volumes created without `idmap` or `owner`
  // (it wins over DEFAULT_OWNER).
  std::string default_idmap;
  // FREEZE_TIMEOUT: the longest a mounted source stays frozen for a clone;
  // past it the source is thawed and the clone abandoned, so a desktop never
  // hangs on a stuck clone.
  std::chrono::milliseconds freeze_timeout{std::chrono::seconds(10)};
  std::string mount_root = "/var/lib/helixvol/mounts";
  uint64_t default_size = 20ull << 30;  // DEFAULT_SIZE
  uint64_t max_size = 1ull << 40;       // MAX_SIZE
  // Watermarks on the pool's free space (the least of every layer under it,
  // pool_space.h): under POOL_WARNING helixvol logs a warning and Status
  // says "warning"; under POOL_CRITICAL creates and clones are refused.
  uint64_t pool_warning = 10ull << 30;
  uint64_t pool_critical = 1ull << 30;
  // A Mount that takes longer than this is rolled back and reported failed:
  // dockerd has stopped waiting (30 s for a managed plugin) and would retry
  // with a new mount ID, leaving the first reference to lock the volume.
  std::chrono::milliseconds mount_timeout{std::chrono::seconds(25)};
};

struct VolumeView {
  std::string name;
  std::string mountpoint;  // empty when not mounted
  std::string created_at;
  nlohmann::json status;  // only filled by Get
};

// The system layer the manager works through, one interface per concern.
struct SystemOps {
  LoopDevices& loops;
  Mounter& mounter;
  Formatter& formatter;
  Cloner& cloner;
  Freezer& freezer;
  Ext4Tools& ext4;
  FileSystem& files;
};

class VolumeManager {
 public:
  VolumeManager(ManagerConfig config, SystemOps ops);

  // Points the manager at the pool PreparePool chose. Call before Recover.
  void UsePool(const PoolInfo& pool);

  // Rebuilds the registry from the pool and reconciles it with the kernel's
  // mounts and loop devices. Call once, before serving requests.
  Status Recover();

  // Idempotent: creating an existing volume with the same options succeeds
  // (dockerd may retry), with other options fails.
  Status Create(const std::string& name, const std::map<std::string, std::string>& opts);
  Status Remove(const std::string& name);
  // Returns the path dockerd binds into the container.
  Result<std::string> Mount(const std::string& name, const std::string& id);
  // Always drops the reference, even when the unmount fails.
  Status Unmount(const std::string& name, const std::string& id);
  Result<std::string> Path(const std::string& name);
  Result<VolumeView> Get(const std::string& name);
  std::vector<VolumeView> List();
  // Operator escape hatch for a reference whose container is gone (dockerd
  // gave up on a Mount that then completed): drops mount ID `id`, or every
  // reference when `id` is empty, unmounting at zero. Returns the IDs dropped.
  Result<std::vector<std::string>> Release(const std::string& name, const std::string& id);

  std::string PoolDir() const;

 private:
  // The pool's layout as it stands (UsePool may move the pool).
  PoolLayout Layout() const;
  // Writes `meta` to disk, then into `v`. Requires v->op_mu.
  Status SaveMeta(Volume& v, const VolumeMeta& meta);
  // SaveMeta, but when the write fails `meta` still goes into `v`, marked
  // unsaved (Status says so): for a change that has happened whatever the
  // file says, such as a reference Unmount dropped. Requires v->op_mu.
  Status SaveOrKeepMeta(Volume& v, const VolumeMeta& meta);
  // Makes the volume, whole, under its name, and returns it for the
  // registry; requires the name reserved (VolumeRegistry::BeginCreate).
  Result<VolumePtr> CreateLocked(const std::string& name, const CreateOptions& options);
  // Fills `image` with a clone of `source` and returns the method used.
  // Freezes the source while it is copied if it is mounted.
  Result<CloneMethod> CloneImage(const std::string& source, const std::string& image,
                                 const CreateOptions& options, VolumeMeta& meta);
  // Enlarges a cloned image to `size` and grows its filesystem to fill it.
  Status GrowImage(const std::string& image, uint64_t size);
  // Attach (or reuse) a loop device and mount the image, refusing a mount
  // point that holds someone else's mount. Requires v->op_mu.
  Status MountFilesystem(Volume& v, const std::string& name);
  // `-o owner`: gives data/ to the volume's owner (volume_mount.cc).
  Status ApplyOwner(const std::string& data, const VolumeMeta& meta);
  // Unmount helixvol's own mount (never one someone else put on top) and
  // let autoclear detach. Requires v->op_mu.
  Status UnmountFilesystem(Volume& v, const std::string& name);
  // Reads what the disk says of volume `name`, for the reconcile plan.
  VolumeFacts FactsOf(const std::string& name, dev_t pool_dev);
  // Carries out `plan` for volume `name` and registers it as recovery
  // found it (whole or broken).
  void ApplyPlan(const std::string& name, const VolumePlan& plan);
  // Pool space (volume_space.cc). The least free space of every layer
  // under the pool; a change of level (ok, warning, critical) is logged.
  Result<std::vector<LayerSpace>> MeasurePool();
  // NoSpace naming the layer when the pool is under POOL_CRITICAL.
  Status RefuseIfCritical();
  // pool_free_bytes, pool_space and pool_layers, for Get.
  void AddPoolStatus(nlohmann::json& status);
  std::string_view SpaceLevel(uint64_t free_bytes) const;

  ManagerConfig config_;  // pool_dir and clone_method set by UsePool before serving
  SystemOps ops_;
  LoopDevices& loops_;
  Mounter& mounter_;
  FileSystem& files_;

  std::vector<SpaceLayer> space_layers_;  // found by Recover, read-only after
  std::mutex space_mu_;
  std::string space_level_;  // guarded by space_mu_; the last level logged

  VolumeRegistry registry_;
};

// Mount options for every volume: noatime (a data root writes enough),
// errors=remount-ro (stop a damaged filesystem before it spreads), discard
// (freed blocks are punched out of the sparse image and go back to the pool),
// data_err=abort: a failed write of file data (ENOSPC from a full pool under
// the loop device) aborts the journal, and errors=remount-ro then stops the
// volume taking writes. Without it ext4 reports such a failure only to an
// fsync that asks, stays read-write, and a program that does not fsync loses
// its data without an error.
inline constexpr const char* kMountOptions = "noatime,errors=remount-ro,discard,data_err=abort";
// Snapshots are immutable: a read-only mount of a read-only loop device.
inline constexpr const char* kSnapshotMountOptions = "ro,noatime";

}  // namespace helix::vol
