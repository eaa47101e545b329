// UTF-8 checks and message quoting for text that arrives untrusted.
//
// Go replaces invalid UTF-8 with U+FFFD where a C++ reader keeps the bytes,
// so helixauthz refuses invalid UTF-8 rather than guess. Messages must stay
// valid UTF-8 themselves: they travel back to dockerd inside JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace helix::authz {

// The code point of the well-formed UTF-8 sequence at text[pos], and its
// length in bytes; length 0 when the sequence is ill-formed (overlong forms,
// encoded surrogates and code points past U+10FFFF included).
struct Utf8Char {
  char32_t code_point = 0;
  size_t length = 0;
};
Utf8Char DecodeUtf8(std::string_view text, size_t pos);

bool IsValidUtf8(std::string_view text);

// Appends `code_point` (at most U+10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(std::string& out, char32_t code_point);

// Like helix::Quote(), but everything outside printable ASCII is escaped:
// control characters as \u00XX, other code points as \uXXXX (\U00XXXXXX past
// the BMP) so that a KELVIN SIGN cannot pass for a "K", and bytes that are not
// UTF-8 as \xXX.
std::string QuoteEscaped(std::string_view text);

}  // namespace helix::authz
