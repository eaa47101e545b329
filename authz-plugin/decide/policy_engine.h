// The decision engine: one normalised request in, allow or deny out.
//
// Deny by default: every endpoint dockerd routes is either in the route
// table (routes.cc), with its checks, or refused with a message naming its
// method and path. Every deny message has the shape
//   helixauthz: <Field>: <what> "<value>" <why> (rule <rule>)
// for example
//   helixauthz: HostConfig.Binds[0]: host path "/var/run/docker.sock" is
//   not allowed (rule host_paths)
// and every error on the way (an engine lookup that fails, a field of the
// wrong type) ends in a deny.
#pragma once

#include <string>

#include "authz-plugin/decide/decision.h"
#include "authz-plugin/engine/engine_view.h"
#include "authz-plugin/policy/policy.h"
#include "authz-plugin/request/request.h"

namespace helix::authz {

// Decides on an AuthZReq. Thread-safe as long as `engine` is. `facts` is
// what the engine said of itself (user namespaces); a user-namespaced
// desktop is refused unless the engine is known to run with them.
Decision Decide(const Policy& policy, const NormalizedRequest& request, EngineView& engine,
                const EngineFacts& facts = EngineFacts());

// Decides on an AuthZRes: always allows. Responses cannot be un-done, so
// all checks happen on the request.
Decision DecideResponse(const Policy& policy, const NormalizedRequest& request);

}  // namespace helix::authz
