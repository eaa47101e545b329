// A fake EngineView for the decision engine's unit tests: containers,
// images and volumes registered by the test, looked up the way dockerd
// does (containers by name, full ID or unique ID prefix), a record of every
// lookup, and a switch that makes every lookup fail like an unreachable
// engine.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "authz-plugin/engine/engine_view.h"

namespace helix::authz::testing {

// A volume as the engine would report it.
inline VolumeInfo Volume(const std::string& name, const std::string& driver, bool snapshot = false,
                         const std::string& clone_source = "",
                         std::map<std::string, std::string> labels = {}) {
  VolumeInfo v;
  v.name = name;
  v.driver = driver;
  v.snapshot = snapshot;
  v.clone_source = clone_source;
  v.labels = std::move(labels);
  return v;
}

class FakeEngineView : public EngineView {
 public:
  std::map<std::string, ContainerInfo> containers;  // by ID
  std::map<std::string, ImageInfo> images;          // by reference or ID
  std::map<std::string, VolumeInfo> volumes;        // by name
  std::map<std::string, NetworkInfo> networks;      // by name or ID
  std::vector<std::string> lookups;                 // "container x", "image y", ...
  bool unreachable = false;
  EngineFacts facts{false, ""};  // what GET /info says

  ContainerInfo& AddContainer(const std::string& id, const std::string& name,
                              nlohmann::json host_config = nlohmann::json::object()) {
    ContainerInfo& c = containers[id];
    c.id = id;
    c.name = "/" + name;
    c.host_config = std::move(host_config);
    return c;
  }

  Result<ContainerInfo> InspectContainer(const std::string& ref) override {
    lookups.push_back("container " + ref);
    if (unreachable) return Unreachable();
    const ContainerInfo* found = nullptr;
    for (const auto& [id, c] : containers) {
      if (c.name == "/" + ref || id == ref) return c;
    }
    for (const auto& [id, c] : containers) {
      if (!ref.empty() && id.rfind(ref, 0) == 0) {
        if (found != nullptr) {
          return Error(ErrorKind::kInvalidArgument, "multiple IDs found with provided prefix");
        }
        found = &c;
      }
    }
    if (found == nullptr) return NotFound("No such container: " + ref);
    return *found;
  }

  Result<ImageInfo> InspectImage(const std::string& ref) override {
    lookups.push_back("image " + ref);
    if (unreachable) return Unreachable();
    auto it = images.find(ref);
    if (it == images.end()) return NotFound("No such image: " + ref);
    return it->second;
  }

  Result<VolumeInfo> InspectVolume(const std::string& name) override {
    lookups.push_back("volume " + name);
    if (unreachable) return Unreachable();
    auto it = volumes.find(name);
    if (it == volumes.end()) return NotFound("get " + name + ": no such volume");
    return it->second;
  }

  // By name, then ID, then unique ID prefix, as dockerd's FindNetwork.
  Result<NetworkInfo> InspectNetwork(const std::string& ref) override {
    lookups.push_back("network " + ref);
    if (unreachable) return Unreachable();
    for (const auto& [key, n] : networks) {
      if (n.name == ref || n.id == ref) return n;
    }
    for (const auto& [key, n] : networks) {
      if (!ref.empty() && n.id.rfind(ref, 0) == 0) return n;
    }
    return NotFound("network " + ref + " not found");
  }

  Result<EngineFacts> Facts() override {
    lookups.push_back("info");
    if (unreachable) return Unreachable();
    return facts;
  }

  // Every container whose mounts name the volume.
  Result<std::vector<std::string>> ContainersUsingVolume(const std::string& name) override {
    lookups.push_back("users of " + name);
    if (unreachable) return Unreachable();
    std::vector<std::string> ids;
    for (const auto& [id, c] : containers) {
      for (const auto& m : c.mounts) {
        if (m.type == "volume" && m.name == name) {
          ids.push_back(id);
          break;
        }
      }
    }
    return ids;
  }

 private:
  static Error Unreachable() {
    return Error(ErrorKind::kSystem, "dial unix /run/docker.sock: connection refused");
  }
};

}  // namespace helix::authz::testing
