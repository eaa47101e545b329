// Cloning files through the kernel: FICLONE, or a hole-preserving copy made
// with plain reads and writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "volume-plugin/system/pool.h"

namespace helix::vol {

// Errors name the method, both files and the step that failed:
// "reflink /a to /b: Operation not supported". When the filesystem cannot
// reflink, the errno (EOPNOTSUPP, EXDEV, EINVAL) is kept as the kernel gave
// it, so a caller can tell that from a real failure.
class KernelCloner : public Cloner {
 public:
  Status Clone(const std::string& src, const std::string& dst, CloneMethod method) override;
  // FIEMAP (flushing delayed allocation first); EOPNOTSUPP is nullopt.
  Result<std::optional<uint64_t>> SharedBytes(const std::string& path) override;
  Result<uint64_t> ExtentCount(const std::string& path) override;
};

}  // namespace helix::vol
