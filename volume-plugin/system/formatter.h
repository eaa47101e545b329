// mkfs.ext4, tune2fs and resize2fs, run as tools with an argument vector.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "volume-plugin/system/pool.h"
#include "volume-plugin/system/system.h"

namespace helix::vol {

// One class for both interfaces: they are the same e2fsprogs tools with the
// same timeout, and the plugin's rootfs ships exactly these (mkfs.ext4,
// tune2fs, resize2fs, e2fsck; no dumpe2fs).
class Ext4Formatter : public Formatter, public Ext4Tools {
 public:
  explicit Ext4Formatter(std::chrono::milliseconds timeout = std::chrono::minutes(2))
      : timeout_(timeout) {}
  Status MakeExt4(const std::string& image) override;
  Status SetRandomUuid(const std::string& image) override;
  Status Grow(const std::string& image) override;
  // From `tune2fs -l`.
  Result<std::string> Uuid(const std::string& image) override;

 private:
  std::chrono::milliseconds timeout_;
};

// The value of the "Filesystem UUID:" line of `tune2fs -l` (or `dumpe2fs -h`)
// output, or an empty string when there is none.
std::string ParseFilesystemUuid(std::string_view listing);

}  // namespace helix::vol
