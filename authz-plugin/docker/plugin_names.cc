#include "authz-plugin/docker/plugin_names.h"

#include <regex>

namespace helix::authz {
namespace {

bool IsHex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::optional<std::string> CleanPluginName(std::string_view name) {
  // distribution/reference's grammar: [domain/]component(/component)*[:tag].
  static const std::regex kReference(
      R"(^(?:((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?)/)?)"
      R"(([a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*)*))"
      R"((?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?$)");
  if (name.empty() || name.size() > 255 || IsHex(name)) return std::nullopt;
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(name.begin(), name.end(), m, kReference)) return std::nullopt;
  std::string domain = m[1].str();
  std::string path = m[2].str();
  const std::string tag = m[3].matched ? m[3].str() : "latest";
  // A first component is a domain only if it looks like one (reference's
  // splitDockerDomain); otherwise it belongs to the path.
  if (!domain.empty() && domain.find_first_of(".:") == std::string::npos && domain != "localhost") {
    path = domain + "/" + path;
    domain.clear();
  }
  if (domain == "index.docker.io") domain = "docker.io";
  if (domain.empty() || domain == "docker.io") {
    if (path.rfind("library/", 0) == 0 && path.find('/', 8) == std::string::npos) {
      path = path.substr(8);
    }
    return path + ":" + tag;
  }
  return domain + "/" + path + ":" + tag;
}

bool SamePlugin(const std::vector<std::string>& names, const std::string& driver) {
  auto clean = CleanPluginName(driver);
  if (!clean) return false;
  for (const auto& name : names) {
    if (name == driver || CleanPluginName(name) == clean) return true;
  }
  return false;
}

}  // namespace helix::authz
