// Docker's value syntax, read the way dockerd reads it: capability names,
// security options, paths, API versions, image IDs, query booleans, and the
// '*' patterns the policy uses. Pure functions, shared by the policy loader
// (which normalises what a policy lists) and the decision checks (which
// normalise what a request asks), so that both compare one spelling.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace helix::authz {

// Capability names as dockerd compares them: upper case, "CAP_" prefix
// removed ("sys_admin", "CAP_SYS_ADMIN" -> "SYS_ADMIN"; "all" -> "ALL").
std::string NormalizeCapability(std::string_view name);

// A --security-opt value as dockerd parses it, written "key=value". A
// seccomp profile (the CLI sends the file's JSON inline) becomes
// "seccomp=sha256:<64 hex>", the digest of the JSON as sent, so a policy
// pins a profile by content:
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
