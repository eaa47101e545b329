#include "authz-plugin/request/base64.h"

#include <array>
#include <cstdint>

namespace helix::authz {
namespace {

constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> MakeTable() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kTable = MakeTable();

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    // Padding may only end the text: "xx==" or "xxx=".
    size_t pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    uint32_t bits = 0;
    for (size_t j = 0; j < 4 - pad; ++j) {
      int8_t v = kTable[static_cast<unsigned char>(text[i + j])];
      if (v == kInvalid) return std::nullopt;
      bits |= static_cast<uint32_t>(v) << (18 - 6 * j);
    }
    out += static_cast<char>(bits >> 16);
    if (pad == 2) {
      if ((bits & 0xffff) != 0) return std::nullopt;
      break;
    }
    out += static_cast<char>((bits >> 8) & 0xff);
    if (pad == 1) {
      if ((bits & 0xff) != 0) return std::nullopt;
      break;
    }
    out += static_cast<char>(bits & 0xff);
  }
  return out;
}

}  // namespace helix::authz
