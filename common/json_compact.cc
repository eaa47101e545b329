#include "common/json_compact.h"

namespace helix {

std::optional<std::string> CompactJson(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false, escaped = false;
  for (char ch : text) {
    if (in_string) {
      out += ch;
      if (escaped) {
        escaped = false;
      } else if (ch == '\\') {
        escaped = true;
      } else if (ch == '"') {
        in_string = false;
      }
      continue;
    }
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') continue;
    if (ch == '"') in_string = true;
    out += ch;
  }
  if (in_string) return std::nullopt;
  return out;
}

}  // namespace helix
