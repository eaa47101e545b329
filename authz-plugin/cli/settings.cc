#include "authz-plugin/cli/settings.h"

namespace helix::authz {

Result<AuthzSettings> ReadAuthzSettings(const Environment& env) {
  AuthzSettings s;
  // Checked (case-insensitively) by InitLogging, as for helixvol.
  auto level = env.String("LOG_LEVEL", "info");
  if (!level.ok()) return level.error();
  s.log_level = *level;
  auto audit = env.Choice("AUDIT", {"deny", "all"}, "deny");
  if (!audit.ok()) return audit.error();
  s.audit_allows = *audit == "all";
  return s;
}

}  // namespace helix::authz
