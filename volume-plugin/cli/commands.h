// helixvol's commands, each from its parsed flags to an exit status:
//   serve    the volume plugin protocol: settings, the state lock, the pool,
//            recovery, then requests until a signal
//   release  drops mount references through a running plugin's socket
//   preload  builds a golden data root through the engine's API (tools/preload.h)
// main.cc only picks the command and parses its flags.
#pragma once

#include <string>
#include <vector>

#include "common/flags.h"

namespace helix::vol {

inline constexpr const char* kDefaultSocket = "/run/docker/plugins/helixvol.sock";
inline constexpr const char* kDefaultStateDir = "/var/lib/helixvol";

int ServeCommand(const Flags& flags);
int ReleaseCommand(const Flags& flags);
// `args`: everything after "preload" (ParsePreloadArgs reads them).
int PreloadCommand(const std::vector<std::string>& args);

// "helixvol: <message>" on stderr; returns 1.
int Fail(const std::string& message);

}  // namespace helix::vol
