// KernelView: one reading of mounts and loop devices, and its questions (kernel_view.h).
#include "volume-plugin/system/kernel_view.h"

#include <sstream>

namespace helix::vol {
namespace {

bool HasOption(const std::string& list, const std::string& option) {
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item == option) {
      return true;
    }
  }
  return false;
}

}  // namespace

KernelView::KernelView(std::vector<MountEntry> mounts, std::vector<LoopBinding> loops)
    : mounts_(std::move(mounts)), loops_(std::move(loops)) {
  for (size_t i = 0; i < loops_.size(); ++i) {
    by_backing_.emplace(std::make_pair(loops_[i].backing.dev, loops_[i].backing.ino), i);
  }
  for (size_t i = 0; i < mounts_.size(); ++i) {
    by_target_.emplace(mounts_[i].target, i);  // equal keys keep their order: bottom first
  }
}

Result<KernelView> KernelView::Read(Mounter& mounter, LoopDevices& loops) {
  HELIX_ASSIGN_OR_RETURN(auto mounts, mounter.List());
  HELIX_ASSIGN_OR_RETURN(auto bound, loops.List());
  return KernelView(std::move(mounts), std::move(bound));
}

Result<KernelView> KernelView::ReadMounts(Mounter& mounter) {
  HELIX_ASSIGN_OR_RETURN(auto mounts, mounter.List());
  return KernelView(std::move(mounts), {});
}

const LoopBinding* KernelView::LoopOf(FileId image) const {
  auto it = by_backing_.find({image.dev, image.ino});
  return it == by_backing_.end() ? nullptr : &loops_[it->second];
}

const LoopBinding* KernelView::LoopOfDeleted(const std::string& image_path, dev_t dev) const {
  for (const LoopBinding& b : loops_) {
    if (b.backing.dev == dev && b.backing_path == image_path + " (deleted)") {
      return &b;
    }
  }
  return nullptr;
}

KernelView::Target KernelView::MountsOn(const std::string& target, dev_t loop_rdev) const {
  Target t;
  auto [begin, end] = by_target_.equal_range(target);
  for (auto it = begin; it != end; ++it) {
    const MountEntry& m = mounts_[it->second];
    bool ours = loop_rdev != 0 && m.device == loop_rdev;
    (ours ? t.ours : t.foreign) = &m;
    t.ours_on_top = ours;
  }
  return t;
}

std::string Describe(const MountEntry& m) { return m.fstype + " from " + m.source; }

bool IsReadOnly(const MountEntry& m) {
  return HasOption(m.options, "ro") || HasOption(m.super_options, "ro") ||
         HasOption(m.super_options, "emergency_ro");
}

}  // namespace helix::vol
