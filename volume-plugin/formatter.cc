#include "volume-plugin/formatter.h"

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
  auto r = RunChecked({"mkfs.ext4", "-q", "-F", "-O", "metadata_csum_seed", "-m", "0", "-E",
                       "lazy_itable_init=1,lazy_journal_init=1", image},
                      timeout_);
  if (!r.ok()) {
    return r.error().Wrap("format " + image + " as ext4");
  }
  return Ok();
}

}  // namespace helix::vol
