// helixauthz's commands, each from its parsed flags to an exit status:
//   serve     the plugin protocol on a socket, policy reloaded on change and
//             SIGHUP, the engine's facts refreshed (protocol/authorizer.h)
//   check     one AuthZReq document decided as `serve` would decide it
//   validate  a policy file checked
//   seccomp-digest  the digest a policy pins a seccomp profile by
// main.cc only picks the command and parses its flags.
#pragma once

#include <string>
#include <vector>

#include "common/flags.h"

namespace helix::authz {

inline constexpr const char* kDefaultSocket = "/run/docker/plugins/helixauthz.sock";
inline constexpr const char* kDefaultEngineSocket = "/run/docker.sock";

// Exit status 0 (stopped cleanly) or 1 (could not start).
int ServeCommand(const Flags& flags);
// 0 allowed, 1 denied, 2 usage or policy error.
int CheckCommand(const Flags& flags);
// 0 valid, 1 invalid, 2 usage error.
int ValidateCommand(const Flags& flags);
// 0 printed, 1 not JSON, 2 usage error.
int SeccompDigestCommand(const Flags& flags);

// "helixauthz: <message>" on stderr; returns `code`.
int Fail(const std::string& message, int code = 2);

}  // namespace helix::authz
