#include "authz-plugin/decide/routes.h"

namespace helix::authz {
namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 1;  // paths start with '/'
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool MatchSegment(const std::string& pattern, const std::string& segment,
                  std::map<std::string, std::string>* params) {
  if (pattern.size() > 2 && pattern.front() == '{' && pattern.back() == '}') {
    if (segment.empty()) return false;
    (*params)[pattern.substr(1, pattern.size() - 2)] = segment;
    return true;
  }
  return pattern == segment;
}

constexpr RouteKind A = RouteKind::kAllow;
constexpr RouteKind C = RouteKind::kCheck;
constexpr RouteKind R = RouteKind::kRefuse;

const char* kSwarm = "swarm mode is not used by Helix sandboxes";
const char* kRegistry = "there is no registry in a Helix sandbox";
const char* kPlugins = "plugin management could disable or replace helixauthz";

}  // namespace

bool MatchRoute(const std::string& pattern, const std::string& path,
                std::map<std::string, std::string>* params) {
  std::vector<std::string> p = Split(pattern), s = Split(path);
  params->clear();
  size_t star = p.size();
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i].size() > 3 && p[i].front() == '{' && p[i].substr(p[i].size() - 2) == "*}") star = i;
  }
  if (star == p.size()) {
    if (p.size() != s.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!MatchSegment(p[i], s[i], params)) return false;
    }
    return true;
  }
  size_t suffix = p.size() - star - 1;
  if (s.size() < star + 1 + suffix) return false;
  for (size_t i = 0; i < star; ++i) {
    if (!MatchSegment(p[i], s[i], params)) return false;
  }
  for (size_t i = 0; i < suffix; ++i) {
    if (!MatchSegment(p[p.size() - 1 - i], s[s.size() - 1 - i], params)) return false;
  }
  std::string middle;
  for (size_t i = star; i < s.size() - suffix; ++i) middle += (i == star ? "" : "/") + s[i];
  if (middle.empty()) return false;
  (*params)[p[star].substr(1, p[star].size() - 3)] = middle;
  return true;
}

const std::vector<Route>& RouteTable() {
  static const std::vector<Route> kTable = {
      // System.
      {"GET", "/_ping", "reads", A},
      {"HEAD", "/_ping", "reads", A},
      {"GET", "/version", "reads", A},
      {"GET", "/info", "reads", A},
      {"GET", "/events", "reads", A},
      {"GET", "/system/df", "reads", A},
      {"POST", "/auth", "registry", R, nullptr, Body::kNone, kRegistry},
      // Containers.
      {"GET", "/containers/json", "reads", A},
      {"POST", "/containers/create", "containers.create", C, CheckContainerCreate, Body::kJson},
      {"POST", "/containers/prune", "containers.lifecycle", A},
      {"GET", "/containers/{name}/json", "reads", A},
      {"GET", "/containers/{name}/top", "reads", A},
      {"GET", "/containers/{name}/stats", "reads", A},
      {"GET", "/containers/{name}/changes", "reads", A},
      {"GET", "/containers/{name}/logs", "privileged.logs", C, CheckLogs},
      {"GET", "/containers/{name}/export", "containers.files", C, CheckReadsFiles},
      {"GET", "/containers/{name}/archive", "containers.files", C, CheckReadsFiles},
      {"HEAD", "/containers/{name}/archive", "containers.files", C, CheckReadsFiles},
      {"PUT", "/containers/{name}/archive", "containers.files", C, CheckArchiveUpload,
       Body::kStream},
      {"GET", "/containers/{name}/attach/ws", "containers.attach", C, CheckAttachWebsocket},
      {"POST", "/containers/{name}/attach", "containers.attach", C, CheckAttach},
      {"POST", "/containers/{name}/start", "containers.start", C, CheckStart},
      {"POST", "/containers/{name}/restart", "containers.start", C, CheckStart},
      {"POST", "/containers/{name}/stop", "containers.lifecycle", A},
      {"POST", "/containers/{name}/kill", "containers.lifecycle", A},
      {"POST", "/containers/{name}/pause", "containers.lifecycle", A},
      {"POST", "/containers/{name}/unpause", "containers.lifecycle", A},
      {"POST", "/containers/{name}/wait", "containers.lifecycle", A},
      {"POST", "/containers/{name}/resize", "containers.lifecycle", A},
      {"POST", "/containers/{name}/rename", "containers.rename", C, CheckRename},
      {"POST", "/containers/{name}/update", "containers.update", C, CheckUpdate, Body::kJson},
      {"POST", "/containers/{name}/exec", "exec", C, CheckExecCreate, Body::kJson},
      {"DELETE", "/containers/{name}", "containers.lifecycle", A},
      {"*", "/containers/{name}/checkpoints", "checkpoints", R, nullptr, Body::kNone,
       "checkpoints write and restore container memory"},
      {"*", "/containers/{name}/checkpoints/{id}", "checkpoints", R, nullptr, Body::kNone,
       "checkpoints write and restore container memory"},
      {"POST", "/containers/{name}/copy", "deprecated", R, nullptr, Body::kNone,
       "removed in API 1.24; use the archive endpoints"},
      // Exec instances exist only after an allowed exec create.
      {"POST", "/exec/{id}/start", "exec", A, nullptr, Body::kJsonOptional},
      {"POST", "/exec/{id}/resize", "exec", A},
      {"GET", "/exec/{id}/json", "reads", A},
      // Images.
      {"GET", "/images/json", "reads", A},
      {"GET", "/images/search", "registry", R, nullptr, Body::kNone, kRegistry},
      {"GET", "/images/get", "image_management", C, CheckImageManagement},
      {"GET", "/images/{name*}/get", "image_management", C, CheckImageManagement},
      {"GET", "/images/{name*}/history", "reads", A},
      {"GET", "/images/{name*}/json", "reads", A},
      {"POST", "/images/create", "image_management", C, CheckImageManagement, Body::kStream},
      {"POST", "/images/load", "image_management", C, CheckImageManagement, Body::kStream},
      {"POST", "/images/prune", "image_management", C, CheckImageManagement},
      {"POST", "/images/{name*}/push", "image_management", C, CheckImageManagement},
      {"POST", "/images/{name*}/tag", "image_management", C, CheckImageManagement},
      {"DELETE", "/images/{name*}", "image_management", C, CheckImageManagement},
      {"POST", "/commit", "image_management", C, CheckImageManagement, Body::kJsonOptional},
      {"POST", "/build", "image_management", C, CheckImageManagement, Body::kStream},
      {"POST", "/build/prune", "image_management", C, CheckImageManagement},
      {"POST", "/build/cancel", "image_management", C, CheckImageManagement},
      {"POST", "/session", "build", R, nullptr, Body::kNone, "BuildKit sessions are not used"},
      {"POST", "/grpc", "build", R, nullptr, Body::kNone, "BuildKit's gRPC endpoint is not used"},
      {"GET", "/distribution/{name*}/json", "registry", R, nullptr, Body::kNone, kRegistry},
      // Volumes.
      {"GET", "/volumes", "reads", A},
      {"POST", "/volumes/create", "volumes.create", C, CheckVolumeCreate, Body::kJson},
      {"POST", "/volumes/prune", "volumes.remove", A},
      {"GET", "/volumes/{name*}", "reads", A},
      {"DELETE", "/volumes/{name*}", "volumes.remove", A},
      {"PUT", "/volumes/{name*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      // Networks.
      {"GET", "/networks", "reads", A},
      {"POST", "/networks/create", "networks", C, CheckNetworkCreate, Body::kJson},
      {"POST", "/networks/prune", "networks", A},
      {"GET", "/networks/{id*}", "reads", A},
      {"POST", "/networks/{id*}/connect", "networks", C, CheckNetworkConnect, Body::kJson},
      {"POST", "/networks/{id*}/disconnect", "networks", A, nullptr, Body::kJsonOptional},
      {"DELETE", "/networks/{id*}", "networks", A},
      // Plugins: read-only. Disabling helixauthz through the engine would
      // silently turn authorization off.
      {"GET", "/plugins", "reads", A},
      {"GET", "/plugins/{name*}/json", "reads", A},
      {"*", "/plugins/{rest*}", "plugins", R, nullptr, Body::kNone, kPlugins},
      // Swarm.
      {"*", "/swarm", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/swarm/{rest*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/services", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/services/{rest*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/nodes", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/nodes/{rest*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/tasks", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/tasks/{rest*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/secrets", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/secrets/{rest*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/configs", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/configs/{rest*}", "swarm", R, nullptr, Body::kNone, kSwarm},
      {"*", "/debug/{rest*}", "debug", R, nullptr, Body::kNone,
       "profiling endpoints expose the daemon's memory"},
  };
  return kTable;
}

}  // namespace helix::authz
