// Logging: spdlog to stderr (dockerd records a managed plugin's stderr with
// the plugin's id), level from LOG_LEVEL.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/result.h"

namespace helix {

// Sets the default logger's level from `level` (trace, debug, info, warn,
// error, off). An unknown level is an error naming it and the valid ones.
Status InitLogging(const std::string& level);

}  // namespace helix
