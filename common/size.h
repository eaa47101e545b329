// Human sizes, the way Docker users write them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace helix {

// Parses "512M", "20G", "1T", "20GiB", "4096" (bytes) into bytes. Units are
// binary (K = 1024), case-insensitive, with an optional "B" or "iB" after the
// letter; the number is a whole decimal number. Zero, negative numbers,
// fractions, overflow past 2^63 and anything else are refused with a message
// that quotes the input: size "abc" is not a size (examples: 512M, 20G, 1T).
Result<uint64_t> ParseSize(std::string_view text);

// 21474836480 -> "20GiB"; exact when a unit divides the value, else one
// decimal ("1.5GiB").
std::string FormatSize(uint64_t bytes);

}  // namespace helix
