// helixauthz's settings, read from the environment (a managed plugin's
// `docker plugin set`, a host service's unit file): LOG_LEVEL and AUDIT.
// Read in one place, by a function the tests call, before anything starts.
#pragma once

#include <string>

#include "common/result.h"
#include "common/settings.h"

namespace helix::authz {

struct AuthzSettings {
  std::string log_level = "info";  // LOG_LEVEL
  bool audit_allows = false;       // AUDIT=all (else deny: only denies logged)
};

Result<AuthzSettings> ReadAuthzSettings(const Environment& env);

}  // namespace helix::authz
