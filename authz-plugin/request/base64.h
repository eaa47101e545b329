// Base64 as Go's encoding/json writes a []byte field: the standard alphabet
// with '=' padding (base64.StdEncoding), no line breaks.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace helix::authz {

// Decodes standard, padded base64. Returns nullopt for anything dockerd would
// not have produced: a length that is not a multiple of 4, a character
// outside the alphabet, misplaced padding, or non-zero bits after the last
// byte (which would let two different texts decode to the same bytes).
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace helix::authz
