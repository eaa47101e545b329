// One reading of the kernel's mount table and bound loop devices, and the
// questions helixvol asks of it. Recovery reads the kernel once for all
// volumes (a pass over every loop device per volume made a start-up with
// 300 mounted volumes take over 10 s); Mount and Unmount read it once each.
//
// Ownership: helixvol's mount of a volume is a mount, at the volume's mount
// point, of the loop device bound to the volume's image (matched by device
// and inode). Anything else mounted there, a tmpfs or another image, is not
// helixvol's, and helixvol neither unmounts it nor mounts over it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/file_util.h"
#include "common/result.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

class KernelView {
 public:
  KernelView(std::vector<MountEntry> mounts, std::vector<LoopBinding> loops);
  static Result<KernelView> Read(Mounter& mounter, LoopDevices& loops);
  // The mount table alone, for questions about mounts of a known device.
  static Result<KernelView> ReadMounts(Mounter& mounter);

  // The loop device bound to the file `image`, or nullptr.
  const LoopBinding* LoopOf(FileId image) const;
  // The loop device still bound to the unlinked file that was `image_path`
  // on the filesystem `dev` (an image deleted while mounted), or nullptr.
  const LoopBinding* LoopOfDeleted(const std::string& image_path, dev_t dev) const;

  // What is mounted on one mount point, told apart by owner.
  struct Target {
    const MountEntry* ours = nullptr;     // the topmost mount of the volume's loop device
    const MountEntry* foreign = nullptr;  // the topmost mount of anything else
    bool ours_on_top = false;             // ours is what a path lookup there reaches
  };
  // `loop_rdev` is the number of the loop device bound to the volume's
  // image, 0 when there is none.
  Target MountsOn(const std::string& target, dev_t loop_rdev) const;

  const std::vector<MountEntry>& mounts() const { return mounts_; }

 private:
  std::vector<MountEntry> mounts_;
  std::vector<LoopBinding> loops_;
  std::map<std::pair<dev_t, ino_t>, size_t> by_backing_;  // index into loops_
  std::multimap<std::string, size_t> by_target_;          // index into mounts_, in order
};

// "tmpfs from tmpfs", "ext4 from /dev/loop9": a mount as messages name it.
std::string Describe(const MountEntry& m);

// Whether a mount's filesystem has stopped taking writes: mounted ro, or
// ext4 having remounted itself read-only after an error ("emergency_ro" in
// its superblock options on newer kernels, "ro" on older ones).
bool IsReadOnly(const MountEntry& m);

}  // namespace helix::vol
