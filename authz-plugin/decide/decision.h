// A decision: what helixauthz answers dockerd, with the rule behind it. Its
// own header because every layer that decides or reports (the checks, the
// policy engine, the protocol handlers, the audit log) needs it and nothing
// else of the others.
#pragma once

#include <string>

namespace helix::authz {

struct Decision {
  bool allow = false;
  std::string rule;     // short id for the audit log: "privileged.images"
  std::string message;  // the deny message; for an allow, what allowed it
};

}  // namespace helix::authz
