// Mounts through libmount, and the mount table read from
// /proc/self/mountinfo.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

// Parses the text of /proc/<pid>/mountinfo (see proc(5)): mount point and
// source have their octal escapes (\040 space, \011 tab, \012 newline, \134
// backslash) undone; optional fields ("shared:1 master:2") are skipped up to
// the " - " separator. Lines that do not have that shape are left out rather
// than failing the whole table.
std::vector<MountEntry> ParseMountInfo(std::string_view text);

// mount(2) and umount2(2) called by libmount directly: no /sbin/mount.<type>
// helpers (the plugin's rootfs has none it should trust) and no utab/mtab
// bookkeeping (the kernel's table is the only truth). Errors from the kernel
// keep their errno, so EBUSY on unmount comes back as ErrorKind::kBusy and
// "not mounted" as EINVAL.
class KernelMounter : public Mounter {
 public:
  // `options` is a mount(8)-style list ("ro,noatime,discard"). A read-write
  // mount of a read-only device fails (EROFS or EACCES) instead of silently
  // becoming read-only as mount(8) would do.
  Status Mount(const std::string& source, const std::string& target, const std::string& fstype,
               const std::string& options) override;
  Status Unmount(const std::string& target) override;
  Status IdmapBind(const std::string& path, const std::string& idmap) override;
  Result<std::vector<MountEntry>> List() override;
};

}  // namespace helix::vol
