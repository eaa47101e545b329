#include "authz-plugin/docker/docker_values.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/sha256.h"
#include "common/strings.h"

namespace helix::authz {
namespace {

// Go's strconv.ParseBool.
std::optional<bool> GoParseBool(std::string_view s) {
  static const char* kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char* kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (const char* t : kTrue) {
    if (s == t) return true;
  }
  for (const char* f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

}  // namespace

std::string NormalizeCapability(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("CAP_", 0) == 0) upper.erase(0, 4);
  return upper;
}

std::optional<std::string> NormalizeSecurityOpt(std::string_view opt) {
  if (opt == "no-new-privileges") return "no-new-privileges=true";
  if (opt == "disable") return "label=disable";
  // dockerd splits at the first '=', else at the first ':' (deprecated).
  auto sep = opt.find('=');
  if (sep == std::string_view::npos) sep = opt.find(':');
  if (sep == std::string_view::npos) return std::nullopt;
  std::string key(opt.substr(0, sep));
  std::string value(opt.substr(sep + 1));
  if (key == "no-new-privileges") {
    auto b = GoParseBool(value);
    if (!b) return std::nullopt;
    value = *b ? "true" : "false";
  }
  // A profile travels inline (the CLI reads the file and compacts it); it
  // is compared by its digest. A digest (as policies list it) stays.
  const bool digest = value.size() == 71 && IsImageId(value);
  if (key == "seccomp" && value != "unconfined" && value != "builtin" && !digest) {
    value = Sha256Hex(value);
  }
  return key + "=" + value;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with one backtrack point per '*'.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string CleanPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return std::string(path);
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool PathWithin(std::string_view path, std::string_view prefix) {
  if (prefix == "/") return !path.empty() && path[0] == '/';
  if (path.rfind(prefix, 0) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

bool QueryBool(const std::multimap<std::string, std::string>& query, const std::string& key) {
  auto it = query.find(key);
  if (it == query.end()) return false;
  std::string v = it->second;
  auto first = v.find_first_not_of(" \t\r\n");
  auto last = v.find_last_not_of(" \t\r\n");
  v = first == std::string::npos ? "" : Lower(v.substr(first, last - first + 1));
  return !(v.empty() || v == "0" || v == "no" || v == "false" || v == "none");
}

std::optional<int> CompareApiVersions(std::string_view a, std::string_view b) {
  auto parse = [](std::string_view v) -> std::optional<std::pair<long, long>> {
    auto dot = v.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size() || v.size() > 12) {
      return std::nullopt;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (i != dot && !std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
    }
    return std::make_pair(std::stol(std::string(v.substr(0, dot))),
                          std::stol(std::string(v.substr(dot + 1))));
  };
  auto pa = parse(a), pb = parse(b);
  if (!pa || !pb) return std::nullopt;
  if (*pa < *pb) return -1;
  return *pa == *pb ? 0 : 1;
}

bool IsImageId(std::string_view text) {
  if (text.size() != 71 || text.substr(0, 7) != "sha256:") return false;
  return std::all_of(text.begin() + 7, text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace helix::authz
