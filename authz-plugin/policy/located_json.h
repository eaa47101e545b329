// JSON with line numbers: what the policy loader needs to say where in the
// file a bad value sits ("policy.json:12: ...").
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace helix::authz {

struct LocatedJson {
  nlohmann::json value;
  // Display path -> 1-based line where the value (or, for an object member,
  // its key) sits. Paths are written the way messages show them:
  // "privileged.images[0]", "users.alice.image_management"; the root is "".
  std::map<std::string, int> lines;

  // The line of `path`, or of its nearest recorded ancestor; 1 at worst.
  int LineOf(const std::string& path) const;
};

// Parses one JSON document. Duplicate keys are errors: in a policy, the
// second of two "images" lists silently replacing the first is a weakening
// nobody sees. Errors read "<source>:<line>: <why>".
Result<LocatedJson> ParseLocatedJson(std::string_view text, std::string_view source);

// "a" + "b" -> "a.b"; "" + "b" -> "b". Member paths in LocatedJson::lines.
std::string MemberPath(const std::string& parent, const std::string& key);

}  // namespace helix::authz
