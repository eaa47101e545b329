// A request body read the way dockerd's Go decoder will read it, or refused.
//
// dockerd decodes bodies with encoding/json into structs. Go matches object
// keys to struct fields case-insensitively, with Unicode folding (U+212A
// KELVIN SIGN matches "k", U+017F LATIN SMALL LETTER LONG S matches "s"); a
// repeated key overwrites the earlier value, and a repeated object merges
// into the earlier one; invalid UTF-8 and lone surrogate escapes become
// U+FFFD; json.NewDecoder(r).Decode stops after the first value and never
// looks at what follows. A policy that reads the same bytes plainly would see
// something else in every one of those cases, so this reader refuses them
// instead of emulating Go.
//
// nlohmann's own parser cannot serve here: it keeps one of two duplicate
// keys without a word. This is a small recursive-descent reader that sees
// every key.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace helix::authz {

// Deep enough for any Docker API body (a container create body nests about
// six levels); shallow enough that recursion cannot exhaust the stack.
inline constexpr int kMaxBodyDepth = 64;

// Reads exactly one JSON value with optional surrounding whitespace and
// returns it with every key as sent: struct fields are then found with
// Member() (request_fields.h), which matches case-insensitively as Go does,
// while map keys (Labels, Sysctls, DriverOpts) stay exact, as Go keeps them.
// Refuses: invalid JSON; anything but whitespace after the value;
// invalid UTF-8 or lone surrogate escapes in any string; object keys with
// non-ASCII or control characters; keys that are equal after unescaping and
// ASCII case folding within one object (exact duplicates included); nesting
// deeper than kMaxBodyDepth; integers outside int64/uint64 and numbers
// outside double's range (Go refuses both for the fields they could fill,
// and a rounded copy would mislead the policy).
//
// Numbers are kept the way nlohmann::json::parse keeps them: negative
// integers as int64, other integers as uint64, anything with a fraction or
// exponent as double. Errors start with `root` and the path to the offending
// value: `RequestBody.HostConfig: duplicate key "Privileged" ...`.
Result<nlohmann::json> ReadBodyJson(std::string_view text, std::string_view root = "RequestBody");

}  // namespace helix::authz
