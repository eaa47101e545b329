// One handler per endpoint of Docker's volume plugin protocol (driver_api.h).
#include "volume-plugin/protocol/driver_api.h"

#include <nlohmann/json.hpp>

namespace helix::vol {
namespace {

using nlohmann::json;

// Field readers: a missing or mistyped field is a clear error, never a crash
// on a nlohmann exception.
Result<std::string> StringField(const json& req, const char* field, bool required = true) {
  auto it = req.find(field);
  if (it == req.end() || it->is_null()) {
    if (required) {
      return InvalidArgument(std::string("missing field ") + field);
    }
    return std::string();
  }
  if (!it->is_string()) {
    return InvalidArgument(std::string("field ") + field + " must be a string");
  }
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> OptsField(const json& req) {
  std::map<std::string, std::string> opts;
  auto it = req.find("Opts");
  if (it == req.end() || it->is_null()) {
    return opts;
  }
  if (!it->is_object()) {
    return InvalidArgument("field Opts must be an object of strings");
  }
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      return InvalidArgument("field Opts." + key + " must be a string");
    }
    opts[key] = value.get<std::string>();
  }
  return opts;
}

json ViewJson(const VolumeView& v, bool with_status) {
  json j = {{"Name", v.name}, {"Mountpoint", v.mountpoint}};
  // dockerd parses CreatedAt as RFC 3339 and fails on an empty string; a
  // volume whose meta.json is unreadable has none.
  if (!v.created_at.empty()) {
    j["CreatedAt"] = v.created_at;
  }
  if (with_status) {
    j["Status"] = v.status;
  }
  return j;
}

Result<json> Empty(const Status& s) {
  if (!s.ok()) {
    return s.error();
  }
  return json::object();
}

}  // namespace

void RegisterVolumeDriver(PluginServer& server, VolumeManager& m) {
  server.Handle("/VolumeDriver.Capabilities", [](const json&) -> Result<json> {
    return json{{"Capabilities", {{"Scope", "local"}}}};
  });
  server.Handle("/VolumeDriver.Create", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    HELIX_ASSIGN_OR_RETURN(auto opts, OptsField(req));
    return Empty(m.Create(name, opts));
  });
  server.Handle("/VolumeDriver.Remove", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    return Empty(m.Remove(name));
  });
  server.Handle("/VolumeDriver.Mount", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    HELIX_ASSIGN_OR_RETURN(auto id, StringField(req, "ID"));
    HELIX_ASSIGN_OR_RETURN(auto path, m.Mount(name, id));
    return json{{"Mountpoint", path}};
  });
  server.Handle("/VolumeDriver.Unmount", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    HELIX_ASSIGN_OR_RETURN(auto id, StringField(req, "ID"));
    return Empty(m.Unmount(name, id));
  });
  server.Handle("/VolumeDriver.Path", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    HELIX_ASSIGN_OR_RETURN(auto path, m.Path(name));
    return json{{"Mountpoint", path}};
  });
  server.Handle("/VolumeDriver.Get", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    HELIX_ASSIGN_OR_RETURN(auto view, m.Get(name));
    return json{{"Volume", ViewJson(view, true)}};
  });
  server.Handle("/VolumeDriver.List", [&m](const json&) -> Result<json> {
    json volumes = json::array();
    for (const auto& v : m.List()) {
      volumes.push_back(ViewJson(v, false));
    }
    return json{{"Volumes", volumes}};
  });
  // Not part of Docker's protocol: the operator's `helixvol release`.
  server.Handle("/Helixvol.Release", [&m](const json& req) -> Result<json> {
    HELIX_ASSIGN_OR_RETURN(auto name, StringField(req, "Name"));
    HELIX_ASSIGN_OR_RETURN(auto id, StringField(req, "ID", /*required=*/false));
    HELIX_ASSIGN_OR_RETURN(auto dropped, m.Release(name, id));
    return json{{"Released", dropped}};
  });
}

}  // namespace helix::vol
