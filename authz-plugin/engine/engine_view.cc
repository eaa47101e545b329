#include "authz-plugin/engine/engine_view.h"

#include "common/quote.h"

namespace helix::authz {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

DockerEngineView::DockerEngineView(std::string socket_path, int timeout_seconds)
    : engine_(std::move(socket_path), "1.41", timeout_seconds) {}

Result<json> DockerEngineView::Get(const std::string& path, const std::string& what) {
  auto answer = engine_.Get(path);
  if (!answer.ok()) {
    if (answer.error().kind() == ErrorKind::kNotFound) return NotFound(what + " not found");
    return answer.error().Wrap("inspect " + what);
  }
  if (!answer->is_object()) {
    return Error(ErrorKind::kSystem, "inspect " + what + ": the engine's answer is not an object");
  }
  return *answer;
}

Result<ContainerInfo> DockerEngineView::InspectContainer(const std::string& ref) {
  auto j = Get("/containers/" + DockerClient::PathEscape(ref) + "/json", "container " + Quote(ref));
  if (!j.ok()) return j.error();
  ContainerInfo info;
  info.id = Str(*j, "Id");
  info.name = Str(*j, "Name");
  info.image_id = Str(*j, "Image");
  if (j->contains("HostConfig") && (*j)["HostConfig"].is_object()) {
    info.host_config = (*j)["HostConfig"];
  }
  if (j->contains("Mounts") && (*j)["Mounts"].is_array()) {
    for (const auto& m : (*j)["Mounts"]) {
      if (!m.is_object()) continue;
      info.mounts.push_back({Str(m, "Type"), Str(m, "Name"), Str(m, "Source"),
                             Str(m, "Destination"), Str(m, "Driver"),
                             !(m.contains("RW") && m["RW"] == false)});
    }
  }
  if (info.id.empty()) return Error(ErrorKind::kSystem, "inspect container: answer without Id");
  return info;
}

Result<ImageInfo> DockerEngineView::InspectImage(const std::string& ref) {
  auto j = Get("/images/" + DockerClient::PathEscape(ref) + "/json", "image " + Quote(ref));
  if (!j.ok()) return j.error();
  ImageInfo info;
  info.id = Str(*j, "Id");
  if (j->contains("RepoDigests") && (*j)["RepoDigests"].is_array()) {
    for (const auto& d : (*j)["RepoDigests"]) {
      if (d.is_string()) info.repo_digests.push_back(d.get<std::string>());
    }
  }
  if (j->contains("Config") && (*j)["Config"].is_object()) info.config = (*j)["Config"];
  if (info.id.empty()) return Error(ErrorKind::kSystem, "inspect image: answer without Id");
  return info;
}

Result<VolumeInfo> DockerEngineView::InspectVolume(const std::string& name) {
  auto j = Get("/volumes/" + DockerClient::PathEscape(name), "volume " + Quote(name));
  if (!j.ok()) return j.error();
  VolumeInfo info;
  info.name = Str(*j, "Name");
  info.driver = Str(*j, "Driver");
  if (j->contains("Options") && (*j)["Options"].is_object()) {
    for (const auto& [k, v] : (*j)["Options"].items()) {
      if (v.is_string()) info.options[k] = v.get<std::string>();
    }
  }
  if (j->contains("Status") && (*j)["Status"].is_object()) {
    const json& status = (*j)["Status"];
    info.snapshot = status.contains("snapshot") && status["snapshot"] == true;
    info.clone_source = Str(status, "clone_source");
    for (const auto& [k, v] : status.items()) {
      if (v.is_string()) info.status[k] = v.get<std::string>();
    }
  }
  if (j->contains("Labels") && (*j)["Labels"].is_object()) {
    for (const auto& [k, v] : (*j)["Labels"].items()) {
      if (v.is_string()) info.labels[k] = v.get<std::string>();
    }
  }
  if (info.driver.empty())
    return Error(ErrorKind::kSystem, "inspect volume: answer without Driver");
  return info;
}

Result<NetworkInfo> DockerEngineView::InspectNetwork(const std::string& ref) {
  auto j = Get("/networks/" + DockerClient::PathEscape(ref), "network " + Quote(ref));
  if (!j.ok()) return j.error();
  NetworkInfo info{Str(*j, "Id"), Str(*j, "Name"), Str(*j, "Driver")};
  if (info.id.empty()) return Error(ErrorKind::kSystem, "inspect network: answer without Id");
  return info;
}

Result<std::vector<std::string>> DockerEngineView::ContainersUsingVolume(const std::string& name) {
  // The engine's "volume" filter matches a mount's volume name or its
  // destination, so the answer is narrowed to mounts of this volume.
  const json filters = {{"volume", {name}}};
  auto answer =
      engine_.Get("/containers/json?all=1&filters=" + DockerClient::QueryEscape(filters.dump()));
  if (!answer.ok()) return answer.error().Wrap("list containers using volume " + Quote(name));
  if (!answer->is_array()) {
    return Error(ErrorKind::kSystem, "list containers: the engine's answer is not a list");
  }
  std::vector<std::string> ids;
  for (const auto& c : *answer) {
    if (!c.is_object() || !c.contains("Mounts") || !c["Mounts"].is_array()) continue;
    for (const auto& m : c["Mounts"]) {
      if (m.is_object() && Str(m, "Type") == "volume" && Str(m, "Name") == name) {
        ids.push_back(Str(c, "Id"));
        break;
      }
    }
  }
  return ids;
}

Result<EngineFacts> DockerEngineView::Facts() {
  auto j = Get("/info", "engine");
  if (!j.ok()) return j.error();
  EngineFacts facts;
  facts.userns = false;
  if (j->contains("SecurityOptions") && (*j)["SecurityOptions"].is_array()) {
    for (const auto& opt : (*j)["SecurityOptions"]) {
      if (opt.is_string() && opt.get<std::string>() == "name=userns") facts.userns = true;
    }
  }
  return facts;
}

}  // namespace helix::authz
