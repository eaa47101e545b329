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

}  // namespace helix::authz
