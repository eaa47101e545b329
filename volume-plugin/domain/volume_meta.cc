// meta.json to and from JSON, and the time format dockerd wants (volume_meta.h).
#include "volume-plugin/domain/volume_meta.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace helix::vol {

int VolumeMeta::References() const {
  int n = 0;
  for (const auto& [id, count] : mount_refs) {
    n += count;
  }
  return n;
}

std::string MetaToJson(const VolumeMeta& meta) {
  nlohmann::json j = {
      {"format", kMetaFormat},         {"name", meta.name},
      {"size_bytes", meta.size_bytes}, {"created_at", meta.created_at},
      {"exclusive", meta.exclusive},   {"options", meta.options},
      {"mount_refs", meta.mount_refs},
  };
  if (!meta.clone_source.empty()) {
    j["clone_source"] = meta.clone_source;
    j["clone_method"] = meta.clone_method;
  }
  if (!meta.owner.empty()) {
    j["owner"] = meta.owner;
  }
  if (!meta.idmap.empty()) {
    j["idmap"] = meta.idmap;
  }
  if (meta.snapshot) {
    j["snapshot"] = true;
  }
  return j.dump(2) + "\n";
}

Result<VolumeMeta> MetaFromJson(const std::string& text, const std::string& origin) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(origin + ": not a JSON object");
  }
  try {
    int format = j.at("format").get<int>();
    if (format > kMetaFormat) {
      return InvalidArgument(origin + ": format " + std::to_string(format) +
                             " is newer than this helixvol understands (" +
                             std::to_string(kMetaFormat) + "); upgrade helixvol");
    }
    VolumeMeta m;
    m.name = j.at("name").get<std::string>();
    m.size_bytes = j.at("size_bytes").get<uint64_t>();
    m.created_at = j.at("created_at").get<std::string>();
    m.exclusive = j.value("exclusive", true);
    m.options = j.value("options", std::map<std::string, std::string>{});
    m.mount_refs = j.value("mount_refs", std::map<std::string, int>{});
    m.clone_source = j.value("clone_source", "");
    m.clone_method = j.value("clone_method", "");
    m.snapshot = j.value("snapshot", false);
    m.owner = j.value("owner", std::string());
    m.idmap = j.value("idmap", std::string());
    return m;
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(origin + ": " + e.what());
  }
}

std::string NowRfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace helix::vol
