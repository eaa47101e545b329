// The settings of `helixvol serve`, read from the environment (a managed
// plugin's `docker plugin set` values arrive that way) and checked before
// anything starts: the first bad one stops start-up with a message naming
// the setting and its value.
#pragma once

#include <string>

#include "common/result.h"
#include "common/settings.h"
#include "volume-plugin/domain/volume_manager.h"
#include "volume-plugin/system/pool.h"

namespace helix::vol {

struct ServeSettings {
  ManagerConfig manager;
  PoolConfig pool;
  std::string log_level;
  std::string fault_point;  // HELIXVOL_FAULT_POINT, for crash tests only
};

// `mount_root` empty: <state_dir>/mounts.
Result<ServeSettings> ReadServeSettings(const Environment& env, const std::string& state_dir,
                                        const std::string& mount_root);

}  // namespace helix::vol
