// Fault points: a test-only way to kill helixvol at one exact step, so that
// the crash tests (tests/system/plugin_crash_test.cc) can prove every step of
// Create, Clone, Mount, Unmount and Remove recoverable. Armed only by
// HELIXVOL_FAULT_POINT=<name> in `helixvol serve`'s environment: the process
// then SIGKILLs itself the first time it reaches FaultPoint(<name>), with no
// destructor run and nothing flushed, as a kill -9 or a power cut would leave
// it. Unarmed (always, in production), FaultPoint compares two strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace helix::vol {

// Every fault point's name, in the order of the steps they follow.
const std::vector<std::string_view>& FaultPointNames();

// Arms `name` (one of FaultPointNames(), else an error naming the setting).
// Call once, before any thread starts; an empty name arms nothing.
Status ArmFaultPoint(const std::string& name);

// Kills the process when `name` is the armed point.
void FaultPoint(std::string_view name);

}  // namespace helix::vol
