// Names and `-o` options, validated before any side effect (create_options.h).
#include "volume-plugin/domain/create_options.h"

#include <set>

#include "common/quote.h"
#include "common/size.h"
#include "volume-plugin/system/idmap_mount.h"

namespace helix::vol {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const std::set<std::string>& ValidOptions() {
  static const std::set<std::string> kValid = {"exclusive", "from", "idmap",
                                               "owner",     "size", "snapshot"};
  return kValid;
}

std::string ValidList() {
  std::string out;
  for (const auto& o : ValidOptions()) {
    out += out.empty() ? "" : ", ";
    out += o;
  }
  return out;
}

}  // namespace

Error BadOption(const std::string& key, const std::string& value, const std::string& why) {
  return InvalidArgument("invalid option " + key + "=" + Quote(value) + ": " + why);
}

Status ValidateName(std::string_view name) {
  constexpr std::string_view kRule = "[a-zA-Z0-9][a-zA-Z0-9_.-]+";
  if (name.size() > kMaxNameLength) {
    return InvalidArgument("invalid volume name " + Quote(name.substr(0, 32)) + "... (" +
                           std::to_string(name.size()) + " characters): at most " +
                           std::to_string(kMaxNameLength) + " characters");
  }
  bool ok = name.size() >= 2 && IsAlnum(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    char c = name[i];
    ok = IsAlnum(c) || c == '_' || c == '.' || c == '-';
  }
  if (!ok) {
    return InvalidArgument("invalid volume name " + Quote(name) + ": must match " +
                           std::string(kRule));
  }
  return Ok();
}

static Result<bool> ParseBool(const std::map<std::string, std::string>& opts,
                              const std::string& key, bool fallback) {
  auto it = opts.find(key);
  if (it == opts.end()) {
    return fallback;
  }
  if (it->second == "true") {
    return true;
  }
  if (it->second == "false") {
    return false;
  }
  return BadOption(key, it->second, "must be true or false");
}

// An option that may be given empty, to opt out of its DEFAULT_* setting:
// nullopt when not given; checked by `check` unless empty.
template <typename Check>
static Result<std::optional<std::string>> OptOutOption(
    const std::map<std::string, std::string>& opts, const std::string& key, Check check) {
  auto it = opts.find(key);
  if (it == opts.end()) {
    return std::optional<std::string>();
  }
  if (!it->second.empty()) {
    if (auto r = check(it->second); !r.ok()) {
      return BadOption(key, it->second, r.error().message());
    }
  }
  return std::optional<std::string>(it->second);
}

Result<Owner> ParseOwner(std::string_view text) {
  const std::string why = "must be UID:GID in decimal, as 100000:100000";
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument(why);
  }
  auto uid = ParseId(text.substr(0, colon));
  auto gid = ParseId(text.substr(colon + 1));
  if (!uid || !gid) {
    return InvalidArgument(why);
  }
  return Owner{*uid, *gid};
}

bool IsAnonymousName(std::string_view name) {
  if (name.size() != 64) {
    return false;
  }
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

Result<CreateOptions> ParseCreateOptions(const std::map<std::string, std::string>& opts,
                                         const SizeLimits& limits) {
  for (const auto& [key, value] : opts) {
    if (!ValidOptions().count(key)) {
      return InvalidArgument("invalid option " + Quote(key) + " (valid: " + ValidList() + ")");
    }
  }
  CreateOptions out;
  out.given = opts;
  out.size = limits.default_size;
  if (auto it = opts.find("size"); it != opts.end()) {
    auto size = ParseSize(it->second);
    if (!size.ok()) {
      return BadOption("size", it->second, size.error().message());
    }
    out.size = *size;
    out.size_given = true;
    if (out.size < kMinVolumeSize) {
      return BadOption("size", it->second, "must be at least " + FormatSize(kMinVolumeSize));
    }
    if (out.size > limits.max_size) {
      return BadOption("size", it->second,
                       "larger than MAX_SIZE (" + FormatSize(limits.max_size) + ")");
    }
  }
  // ext4 and the loop device work in 4 KiB blocks; a ragged tail is wasted.
  out.size = (out.size + 4095) / 4096 * 4096;
  auto exclusive = ParseBool(opts, "exclusive", true);
  if (!exclusive.ok()) {
    return exclusive.error();
  }
  out.exclusive = *exclusive;
  auto snapshot = ParseBool(opts, "snapshot", false);
  if (!snapshot.ok()) {
    return snapshot.error();
  }
  out.snapshot = *snapshot;
  HELIX_ASSIGN_OR_RETURN(out.from, OptOutOption(opts, "from", ValidateName));
  HELIX_ASSIGN_OR_RETURN(out.owner, OptOutOption(opts, "owner", ParseOwner));
  HELIX_ASSIGN_OR_RETURN(out.idmap, OptOutOption(opts, "idmap", ParseIdmap));
  if (!out.owner.value_or("").empty() && !out.idmap.value_or("").empty()) {
    return BadOption("owner", *out.owner,
                     "not with idmap: the idmapped mount already shows data/ as the mapped "
                     "root's");
  }
  if (out.snapshot && out.from.value_or("").empty()) {
    return BadOption("snapshot", opts.at("snapshot"), "needs from=<volume> to snapshot");
  }
  return out;
}

}  // namespace helix::vol
