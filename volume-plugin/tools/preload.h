// helixvol preload: builds a golden data root from images, through the
// engine's own API only, and seals it as a snapshot.
//
// The flow (docs/golden-data-roots.md tells it for users):
//  1. a working data root volume (driver helixvol, from="" so DEFAULT_FROM
//     does not apply) and a staging volume (driver local, no options);
//  2. each image (`docker save` from the source engine) and each archive file
//     is streamed into the staging volume through an ordinary, unprivileged
//     container of the engine image running `cat` on its stdin;
//  3. the engine image runs in the desktop's shape with the data root at
//     /var/lib/docker, the staging volume read-only at /helix-preload and
//     HELIX_PRELOAD=/helix-preload in its environment: its entrypoint starts
//     dockerd, `docker load`s every archive, stops dockerd cleanly and exits
//     (contrib/helix-preload is the reference implementation);
//  4. the data root is sealed: a snapshot clone named by the user
//     (from=<working root>, snapshot=true); the working volumes go.
// Nothing privileged is ever exec'ed into, attached to or copied into, and
// no host path is mounted, so helixauthz's shipped policy needs no hole for
// it. A failure or an interrupt at any step removes everything made so far.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/http/docker_client.h"
#include "common/result.h"

namespace helix::vol {

struct PreloadSource {
  enum class Kind { kImage, kArchive };
  Kind kind;
  std::string ref;  // an image reference, or the path of an archive file
};

struct PreloadOptions {
  std::string name;          // the snapshot to make (--name)
  std::string engine_image;  // the desktop image, or any image with the contract (--engine-image)
  std::vector<PreloadSource> sources;         // in command-line order
  std::string host;                           // the engine that runs it all (--host, DOCKER_HOST)
  std::string source_host;                    // the engine images are saved from (--source-host)
  std::string driver = "helixvol";            // --driver
  std::string size;                           // --size, "" for the plugin's DEFAULT_SIZE
  std::map<std::string, std::string> labels;  // --label, put on every container made
  bool privileged = true;                     // --shape privileged|equivalent|userns
  // --shape userns: the loader runs as a user-namespaced desktop (on a
  // userns-remapped engine), so the layers are written as such a desktop's
  // engine reads them (docs/userns-desktops.md).
  bool userns = false;
  std::string seccomp;                // --seccomp FILE's JSON, compacted as the docker CLI sends it
  std::string owner;                  // --owner UID:GID of the data root (-o owner)
  std::vector<std::string> cap_drop;  // --cap-drop, with --shape equivalent
  uint64_t memory = 0;                // --memory, bytes
  uint64_t nano_cpus = 0;             // --cpus, in 1e-9 CPUs
  int64_t pids_limit = 0;             // --pids-limit
  unsigned timeout_seconds = 1800;    // --timeout, for the load step
};

// Parses `helixvol preload` arguments (args[0] is the first flag). Checks
// everything that can be checked without an engine; errors name the flag
// and quote the value.
Result<PreloadOptions> ParsePreloadArgs(const std::vector<std::string>& args,
                                        const std::string& docker_host_env);

// Each progress line, as it happens.
using ProgressFn = std::function<void(const std::string& line)>;

// Runs the flow above. `interrupted` is polled while streaming and waiting;
// when it becomes true the run stops, cleans up and fails with "interrupted".
Status RunPreload(const PreloadOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>& interrupted);

}  // namespace helix::vol
