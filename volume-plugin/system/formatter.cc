// Ext4Formatter: mkfs.ext4, tune2fs and resize2fs with an argument vector (formatter.h).
#include "volume-plugin/system/formatter.h"

#include "common/spawn.h"

namespace helix::vol {

Status Ext4Formatter::MakeExt4(const std::string& image) {
  // - metadata_csum_seed: a clone can get a new UUID without rewriting every
  //   checksum in the filesystem.
  // - lazy_itable_init/lazy_journal_init: mkfs writes only a few MiB, so a
  //   20 GiB volume is made in about 0.1 s. mke2fs discards the sparse file
  //   first (punching holes reads back as zeros), so it can mark the inode
  //   tables zeroed and the kernel's lazy-init thread has nothing to write.
  // - -m 0: the inner dockerd runs as root; reserved blocks only hide space.
  // - -b 4096: mke2fs picks 1 KiB blocks under 512 MiB, but a loop device
  //   with direct I/O on a reflinked XFS file gets 4 KiB logical blocks (XFS
  //   asks for block-aligned direct I/O on files that share extents), and
  //   ext4 cannot mount with blocks smaller than the device's.
  auto r = RunChecked({"mkfs.ext4", "-q", "-F", "-O", "metadata_csum_seed", "-m", "0", "-b", "4096",
                       "-E", "lazy_itable_init=1,lazy_journal_init=1", image},
                      timeout_);
  if (!r.ok()) {
    return r.error().Wrap("format " + image + " as ext4");
  }
  return Ok();
}

Status Ext4Formatter::SetRandomUuid(const std::string& image) {
  // A clone shares its source's UUID; two filesystems with one UUID confuse
  // anything that looks filesystems up by it (blkid, udev, fstab by UUID).
  auto r = RunChecked({"tune2fs", "-U", "random", image}, timeout_);
  if (!r.ok()) {
    return r.error().Wrap("set a new uuid on " + image);
  }
  return Ok();
}

Status Ext4Formatter::Grow(const std::string& image) {
  // Without a size resize2fs fills the file.
  auto r = RunChecked({"resize2fs", "-f", image}, timeout_);
  if (!r.ok()) {
    return r.error().Wrap("grow the filesystem in " + image);
  }
  return Ok();
}

Result<std::string> Ext4Formatter::Uuid(const std::string& image) {
  auto r = RunChecked({"tune2fs", "-l", image}, timeout_);
  if (!r.ok()) {
    return r.error().Wrap("read the uuid of " + image);
  }
  std::string uuid = ParseFilesystemUuid(r->out);
  if (uuid.empty()) {
    return Error(ErrorKind::kSystem,
                 "read the uuid of " + image + ": tune2fs -l printed no \"Filesystem UUID:\"");
  }
  return uuid;
}

std::string ParseFilesystemUuid(std::string_view listing) {
  constexpr std::string_view kKey = "Filesystem UUID:";
  size_t pos = 0;
  while (pos < listing.size()) {
    size_t end = listing.find('\n', pos);
    std::string_view line =
        listing.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line.substr(0, kKey.size()) == kKey) {
      line.remove_prefix(kKey.size());
      size_t first = line.find_first_not_of(" \t");
      size_t last = line.find_last_not_of(" \t\r");
      return first == std::string_view::npos ? std::string()
                                             : std::string(line.substr(first, last - first + 1));
    }
    if (end == std::string_view::npos) {
      break;
    }
    pos = end + 1;
  }
  return std::string();
}

}  // namespace helix::vol
