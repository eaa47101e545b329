#include "common/size.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>

#include "common/quote.h"

namespace helix {
namespace {

constexpr uint64_t kLimit = uint64_t{1} << 63;  // sizes must fit in off_t
constexpr std::array<char, 5> kUnits = {'K', 'M', 'G', 'T', 'P'};

// size "abc": the input quoted so that control characters cannot garble a
// log line.
std::string Quoted(std::string_view text) { return "size " + Quote(text); }

Error NotASize(std::string_view text) {
  return InvalidArgument(Quoted(text) + " is not a size (examples: 512M, 20G, 1T)");
}

// Shift for the unit suffix ("" -> 0, "g"/"GB"/"GiB" -> 30), or -1 when the
// suffix is not one we accept.
int UnitShift(std::string_view suffix) {
  if (suffix.empty()) {
    return 0;
  }
  auto upper = [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  };
  if (suffix.size() == 1 && upper(suffix[0]) == 'B') {
    return 0;  // "4096B": bytes, spelled out
  }
  int shift = -1;
  for (size_t i = 0; i < kUnits.size(); ++i) {
    if (upper(suffix[0]) == kUnits[i]) {
      shift = 10 * static_cast<int>(i + 1);
    }
  }
  if (shift < 0) {
    return -1;
  }
  std::string rest;
  for (char c : suffix.substr(1)) {
    rest += upper(c);
  }
  if (rest.empty() || rest == "B" || rest == "IB") {
    return shift;
  }
  return -1;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  std::string_view body = text;
  bool negative = false;
  if (!body.empty() && body[0] == '-') {
    negative = true;
    body.remove_prefix(1);
  }
  size_t digits = 0;
  while (digits < body.size() && body[digits] >= '0' && body[digits] <= '9') {
    ++digits;
  }
  int shift = UnitShift(body.substr(digits));
  if (digits == 0 || shift < 0) {
    return NotASize(text);
  }
  if (negative) {
    return InvalidArgument(Quoted(text) + " must be positive");
  }
  uint64_t number = 0;
  bool too_large = false;
  for (char c : body.substr(0, digits)) {
    if (number > (UINT64_MAX - 9) / 10) {  // the next digit would wrap around
      too_large = true;
      break;
    }
    number = number * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!too_large && number == 0) {
    return InvalidArgument(Quoted(text) + " must be positive");
  }
  if (too_large || number > ((kLimit - 1) >> shift)) {
    return InvalidArgument(Quoted(text) + " is too large");
  }
  return number << shift;
}

std::string FormatSize(uint64_t bytes) {
  // EiB too, though ParseSize stops at P: a "1EiB" reserve should not print
  // as 1024PiB.
  static constexpr std::array<const char*, 7> kNames = {"B",   "KiB", "MiB", "GiB",
                                                        "TiB", "PiB", "EiB"};
  size_t unit = 0;
  while (unit + 1 < kNames.size() && bytes >= (uint64_t{1} << (10 * (unit + 1)))) {
    ++unit;
  }
  const uint64_t scale = uint64_t{1} << (10 * unit);
  if (bytes % scale == 0) {
    return std::to_string(bytes / scale) + kNames[unit];
  }
  // Tenths, rounded; the remainder times ten cannot overflow since
  // scale <= 2^60.
  uint64_t tenths = bytes / scale * 10 + ((bytes % scale) * 10 + scale / 2) / scale;
  if (tenths >= 10240 && unit + 1 < kNames.size()) {
    // 1023.96MiB rounds to 1024.0MiB: say 1.0GiB instead.
    ++unit;
    tenths = 10;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%llu.%llu%s", static_cast<unsigned long long>(tenths / 10),
                static_cast<unsigned long long>(tenths % 10), kNames[unit]);
  return buf;
}

}  // namespace helix
