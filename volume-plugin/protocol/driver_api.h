// The protocol layer of helixvol: one handler per endpoint of Docker's
// volume plugin protocol, each decoding its request, calling one
// VolumeManager method and encoding the answer. No logic lives here.
#pragma once

#include "common/http/plugin_server.h"
#include "volume-plugin/domain/volume_manager.h"

namespace helix::vol {

// Registers /VolumeDriver.* and helixvol's own /Helixvol.Release on `server`.
void RegisterVolumeDriver(PluginServer& server, VolumeManager& manager);

}  // namespace helix::vol
