// FIFREEZE and FITHAW on a mounted filesystem.
#pragma once

#include <string>

#include "volume-plugin/system/pool.h"

namespace helix::vol {

// A frozen filesystem stays frozen until thawed, even if this process dies:
// the freeze belongs to the superblock, not to a descriptor. Callers pair
// every Freeze with a Thaw on all paths.
class KernelFreezer : public Freezer {
 public:
  Status Freeze(const std::string& mountpoint) override;
  Status Thaw(const std::string& mountpoint) override;
};

}  // namespace helix::vol
