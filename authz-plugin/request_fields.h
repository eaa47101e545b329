// Reading request bodies and values the way dockerd reads them, for the
// checks. Bodies keep their keys as sent (request.h): struct fields are
// found case-insensitively, as Go's decoder finds them, and callers name
// them in lower case; map keys (Labels, Sysctls, DriverOpts) stay exact.
// Messages use Docker's spelling ("HostConfig.CapAdd[0]").
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace helix::authz {

// The struct field `key` (lower case) of `object`, matched case-insensitively
// as Go does, or nullptr when it is absent or null: Go's decoder leaves a
// field at its zero value for both. Not for map keys: those are exact.
const nlohmann::json* Member(const nlohmann::json& object, std::string_view key);

// Whether `value` is Go's zero value for its type (null, false, 0, "", an
// empty list or object): what a client sends for a field it does not set.
// (nlohmann's empty() is false for every string, "" included.)
bool IsZeroValue(const nlohmann::json& value);

// Typed reads of an optional member. An absent or null member gives the zero
// value; a value of the wrong type is an error naming `field`, because Go's
// decoder would refuse it (and a refused body must not be half-judged).
Result<std::string> StringField(const nlohmann::json& object, std::string_view key,
                                const std::string& field);
Result<bool> BoolField(const nlohmann::json& object, std::string_view key,
                       const std::string& field);
// Integers only: Go refuses 1e9 or 1.5 for an int64 field.
Result<int64_t> IntField(const nlohmann::json& object, std::string_view key,
                         const std::string& field);
Result<std::vector<std::string>> StringsField(const nlohmann::json& object, std::string_view key,
                                              const std::string& field);
// A JSON object of strings (Labels, DriverOpts, Sysctls).
Result<std::map<std::string, std::string>> StringMapField(const nlohmann::json& object,
                                                          std::string_view key,
                                                          const std::string& field);
// An array of objects; absent or null gives an empty list.
Result<std::vector<nlohmann::json>> ObjectsField(const nlohmann::json& object, std::string_view key,
                                                 const std::string& field);

// Capability names as dockerd compares them: upper case, "CAP_" prefix
// removed ("sys_admin", "CAP_SYS_ADMIN" -> "SYS_ADMIN"; "all" -> "ALL").
std::string NormalizeCapability(std::string_view name);

// A --security-opt value as dockerd parses it, written "key=value":
// "seccomp:unconfined" -> "seccomp=unconfined", "no-new-privileges" ->
// "no-new-privileges=true", "disable" -> "label=disable". nullopt for what
// dockerd refuses (no separator, a no-new-privileges value Go's
// strconv.ParseBool does not take).
std::optional<std::string> NormalizeSecurityOpt(std::string_view opt);

// '*' matches any run of characters (including none); everything else
// matches itself.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Lexical cleaning like Go's filepath.Clean for absolute paths: "/a//b/../c/"
// -> "/a/c". Relative paths come back unchanged.
std::string CleanPath(std::string_view path);

// Whether `path` is `prefix` or lies under it ("/srv/x" under "/srv").
bool PathWithin(std::string_view path, std::string_view prefix);

// dockerd's httputils.BoolValue on the first value of `key`: false for
// absent, "", "0", "no", "false", "none" (any case, trimmed); true otherwise.
bool QueryBool(const std::multimap<std::string, std::string>& query, const std::string& key);

// Compares "1.40"-style API versions; nullopt if either is malformed.
std::optional<int> CompareApiVersions(std::string_view a, std::string_view b);

// "sha256:" followed by 64 lower-case hex digits.
bool IsImageId(std::string_view text);

}  // namespace helix::authz
