// Reconciliation at start, as a plan: from what the pool holds and what the
// kernel says (mounts, loop devices), what each volume is and what must be
// repaired. Pure: nothing here touches the disk or the kernel, so every case
// is unit-tested directly; VolumeManager::Recover (volume_recovery.cc) reads
// the facts, asks for the plan, applies it and logs each repair.
//
// Where meta.json and the kernel disagree the kernel wins. Only what is
// helixvol's is acted on: a mount at a volume's mount point counts only when
// it is of the loop device bound to that volume's image (system/kernel_view.h), and
// a loop device only when it is bound with autoclear, as helixvol binds them.
// A volume that cannot be made whole is still registered, with the reason,
// so that it never drops out of dockerd's view.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "volume-plugin/domain/volume_meta.h"
#include "volume-plugin/system/kernel_view.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

// One entry of the pool directory and what it is.
struct PoolEntry {
  enum Kind {
    kVolume,
    kLeftover,  // a staging directory a crash left: deleted
    kStray,     // no volume name: left alone, with a warning saying `why`
  };
  Kind kind;
  std::string name;
  std::string why;
};
std::vector<PoolEntry> PlanPool(const std::vector<std::string>& entries);

// What the disk says of one volume.
struct VolumeFacts {
  std::string name;
  std::string meta_path;
  std::optional<std::string> meta_text;  // meta.json's content, when it could be read
  std::string meta_error;                // why it could not
  std::string image;                     // the image's path
  std::optional<FileId> image_id;        // when the image could be stat'ed
  int image_errno = 0;                   // when it could not
  std::string image_error;
  std::string target;  // the volume's mount point
  dev_t pool_dev = 0;  // the pool filesystem's device
};

struct VolumePlan {
  // What to register: meta.json's content, or just the name when broken.
  VolumeMeta meta;
  std::string broken;  // why the volume cannot be mounted as it is
  // helixvol's mount of the volume is there.
  bool mounted = false;
  std::optional<LoopBinding> loop;    // the loop device bound to the image
  std::optional<MountEntry> foreign;  // someone else's mount on the mount point: left alone
  // A plugin killed during a clone must not leave a desktop frozen; thawing
  // one that is not frozen does nothing.
  bool thaw = false;
  enum Repair {
    kNothing,
    kKeepMounted,       // mounted with references, as it should be
    kUnmount,           // mounted, but no container holds it
    kKeepForContainer,  // our mount is gone, a loop device still backs a container's copy
    kDropReferences,    // neither mounted nor backed by a loop device: references are stale
    kDetachOrphan,      // a loop device of ours that nobody mounts
    kLeaveForeignLoop,  // a loop device someone else bound (no autoclear)
  };
  Repair repair = kNothing;
  // Make data/ in the mounted filesystem if it is still mounted after the
  // repair (mounted before data/ was made, by a crash or an older helixvol).
  bool make_data_dir = false;
};
VolumePlan PlanVolume(const VolumeFacts& facts, const KernelView& kernel);

// Mount-root entries to rmdir: those that are no mounted volume's. (rmdir
// touches neither a mount point nor a directory with anything in it.)
std::vector<std::string> StaleMountDirs(const std::vector<std::string>& entries,
                                        const std::vector<std::string>& mounted_volumes);

}  // namespace helix::vol
