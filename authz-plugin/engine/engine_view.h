// What the policy needs to know about objects that already exist in the
// engine: the container a request names, the image a create names, the
// volume a mount names. Decisions fail closed on every error.
//
// The real implementation asks the same engine over its API socket. Those
// calls pass through authorization too, so the policy must allow
// GET /containers/{name}/json, /images/{name}/json and /volumes/{name}, and
// the plugin must serve requests concurrently.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/http/docker_client.h"
#include "common/result.h"

namespace helix::authz {

struct MountInfo {
  std::string type;         // "bind", "volume", "tmpfs", ...
  std::string name;         // volume name, "" for other types
  std::string source;       // host path
  std::string destination;  // path in the container
  std::string driver;       // volume driver, "" for other types
  bool rw = true;
};

struct ContainerInfo {
  std::string id;        // full 64-hex ID
  std::string name;      // "/name", as inspect shows it
  std::string image_id;  // "sha256:..."
  // The container's HostConfig as the engine reports it (Docker's spelling;
  // read fields with Member(), which matches case-insensitively), so that
  // one classifier judges both a create request and an existing container.
  nlohmann::json host_config = nlohmann::json::object();
  std::vector<MountInfo> mounts;
};

struct ImageInfo {
  std::string id;                         // "sha256:<64 hex>"
  std::vector<std::string> repo_digests;  // "repo@sha256:<64 hex>"
  // The image's Config (Entrypoint, Cmd, User, WorkingDir, Healthcheck,
  // Volumes, ...), as inspect shows it; an empty object when it has none.
  nlohmann::json config = nlohmann::json::object();
};

struct VolumeInfo {
  std::string name;
  std::string driver;
  std::map<std::string, std::string> options;  // as given at create
  // From the driver's Status (helixvol): an immutable snapshot, and the
  // volume it was cloned from ("" when none).
  bool snapshot = false;
  std::string clone_source;
  // The labels the engine keeps for the volume (set at create), exact keys.
  std::map<std::string, std::string> labels;
  // The driver's Status entries that are strings (helixvol reports the
  // owner and idmap in effect there).
  std::map<std::string, std::string> status;
};

struct NetworkInfo {
  std::string id;
  std::string name;
  std::string driver;  // "bridge", "host", "null", ...
};

// What the engine says of itself (GET /info) that decisions depend on.
struct EngineFacts {
  // Whether it runs with user namespaces (userns-remap: "name=userns" in
  // SecurityOptions); nullopt when it could not be asked, `why` says why.
  std::optional<bool> userns;
  std::string why;
};

// Each lookup takes what a client may write: a name, an ID or an ID prefix
// (containers, networks), a reference or an ID (images). Errors: kNotFound
// when the engine says the object does not exist; anything else (an
// unreachable engine, an ambiguous prefix, a malformed answer) another kind.
class EngineView {
 public:
  virtual ~EngineView() = default;
  virtual Result<ContainerInfo> InspectContainer(const std::string& ref) = 0;
  virtual Result<ImageInfo> InspectImage(const std::string& ref) = 0;
  virtual Result<VolumeInfo> InspectVolume(const std::string& name) = 0;
  virtual Result<NetworkInfo> InspectNetwork(const std::string& ref) = 0;
  // The full IDs of every container, running or not, that mounts the named
  // volume.
  virtual Result<std::vector<std::string>> ContainersUsingVolume(const std::string& name) = 0;
  // GET /info.
  virtual Result<EngineFacts> Facts() = 0;
};

// Asks a dockerd listening on a Unix socket, with versioned paths (/v1.41/).
// Thread-safe: every call opens its own connection.
class DockerEngineView : public EngineView {
 public:
  explicit DockerEngineView(std::string socket_path, int timeout_seconds = 10);

  Result<ContainerInfo> InspectContainer(const std::string& ref) override;
  Result<ImageInfo> InspectImage(const std::string& ref) override;
  Result<VolumeInfo> InspectVolume(const std::string& name) override;
  Result<NetworkInfo> InspectNetwork(const std::string& ref) override;
  Result<std::vector<std::string>> ContainersUsingVolume(const std::string& name) override;
  Result<EngineFacts> Facts() override;

 private:
  // GETs `path` and decodes the JSON answer; 404 becomes kNotFound.
  Result<nlohmann::json> Get(const std::string& path, const std::string& what);

  DockerClient engine_;
};

}  // namespace helix::authz
