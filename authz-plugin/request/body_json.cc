#include "authz-plugin/request/body_json.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "authz-plugin/request/utf8.h"

namespace helix::authz {
namespace {

using nlohmann::json;

std::string Hex(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return buf;
}

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

// "RequestBody.HostConfig.Binds[0]"; keys that would read badly after a dot
// are bracketed and quoted: RequestBody.Labels["com.example.role"].
std::string KeyPath(const std::string& parent, std::string_view key) {
  if (IsIdentifier(key)) return parent + "." + std::string(key);
  return parent + "[" + QuoteEscaped(key) + "]";
}

class Reader {
 public:
  Reader(std::string_view text, std::string_view root) : text_(text), root_(root) {}

  Result<json> ReadDocument() {
    SkipSpace();
    auto value = Value(root_, 0);
    if (!value.ok()) return value;
    SkipSpace();
    if (pos_ != text_.size()) {
      return InvalidArgument(root_ + ": trailing data at offset " + std::to_string(pos_) +
                             " after the JSON value (dockerd's decoder stops at the first value)");
    }
    return value;
  }

 private:
  Error Syntax(const std::string& path, const std::string& what) const {
    return InvalidArgument(path + ": invalid JSON at offset " + std::to_string(pos_) + ": " + what);
  }
  Error Refuse(const std::string& path, const std::string& what) const {
    return InvalidArgument(path + ": " + what);
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(text_[pos_]); }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' || Peek() == '\r')) {
      ++pos_;
    }
  }

  std::string Unexpected() const {
    if (AtEnd()) return "unexpected end of input";
    const unsigned char c = Peek();
    if (c > 0x20 && c < 0x7f) return "unexpected " + QuoteEscaped(std::string(1, c));
    return "unexpected byte " + Hex(c);
  }

  Result<json> Value(const std::string& path, int depth) {
    if (AtEnd()) return Syntax(path, Unexpected() + ", expected a value");
    switch (Peek()) {
      case '{':
        return Object(path, depth);
      case '[':
        return Array(path, depth);
      case '"': {
        auto s = String(path);
        if (!s.ok()) return s.error();
        return json(std::move(*s));
      }
      case 't':
        return Literal(path, "true", json(true));
      case 'f':
        return Literal(path, "false", json(false));
      case 'n':
        return Literal(path, "null", json(nullptr));
      default:
        if (Peek() == '-' || (Peek() >= '0' && Peek() <= '9')) return Number(path);
        return Syntax(path, Unexpected() + ", expected a value");
    }
  }

  Result<json> Literal(const std::string& path, std::string_view word, json value) {
    if (text_.substr(pos_, word.size()) != word) return Syntax(path, "invalid literal");
    pos_ += word.size();
    return value;
  }

  Result<json> Object(const std::string& path, int depth) {
    if (depth >= kMaxBodyDepth) {
      return Refuse(path, "nesting deeper than " + std::to_string(kMaxBodyDepth) + " levels");
    }
    ++pos_;  // '{'
    json object = json::object();
    std::map<std::string, std::string> seen;  // key folded to lower case -> key as sent
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      return object;
    }
    while (true) {
      if (AtEnd() || Peek() != '"') return Syntax(path, Unexpected() + ", expected a string key");
      auto key = String(path);
      if (!key.ok()) return key.error();
      auto folded = FoldKey(path, *key);
      if (!folded.ok()) return folded.error();
      if (auto [it, fresh] = seen.emplace(*folded, *key); !fresh) {
        if (it->second == *key) {
          return Refuse(path, "duplicate key " + QuoteEscaped(*key) + " (Go keeps the last one)");
        }
        return Refuse(path, "keys " + QuoteEscaped(it->second) + " and " + QuoteEscaped(*key) +
                                " differ only in case (Go matches keys case-insensitively)");
      }
      SkipSpace();
      if (AtEnd() || Peek() != ':') return Syntax(path, Unexpected() + ", expected ':'");
      ++pos_;
      SkipSpace();
      auto value = Value(KeyPath(path, *key), depth + 1);
      if (!value.ok()) return value;
      object[*key] = std::move(*value);
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        SkipSpace();
        continue;
      }
      if (!AtEnd() && Peek() == '}') {
        ++pos_;
        return object;
      }
      return Syntax(path, Unexpected() + ", expected ',' or '}'");
    }
  }

  // Keys reach Go's field matching, which folds Unicode case: only printable
  // ASCII keys have one unambiguous lower-case form. The folded form is only
  // used to find collisions; the key is kept as sent, because map keys
  // (Labels, Sysctls, DriverOpts) are data that Go compares exactly.
  Result<std::string> FoldKey(const std::string& path, const std::string& key) const {
    std::string folded = key;
    for (char& c : folded) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) {
        return Refuse(path, "key " + QuoteEscaped(key) +
                                " is not ASCII (Go folds Unicode case when matching keys)");
      }
      if (u < 0x20 || u == 0x7f) {
        return Refuse(path, "key " + QuoteEscaped(key) + " has a control character");
      }
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return folded;
  }

  Result<json> Array(const std::string& path, int depth) {
    if (depth >= kMaxBodyDepth) {
      return Refuse(path, "nesting deeper than " + std::to_string(kMaxBodyDepth) + " levels");
    }
    ++pos_;  // '['
    json array = json::array();
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++pos_;
      return array;
    }
    while (true) {
      auto value = Value(path + "[" + std::to_string(array.size()) + "]", depth + 1);
      if (!value.ok()) return value;
      array.push_back(std::move(*value));
      SkipSpace();
      if (!AtEnd() && Peek() == ',') {
        ++pos_;
        SkipSpace();
        continue;
      }
      if (!AtEnd() && Peek() == ']') {
        ++pos_;
        return array;
      }
      return Syntax(path, Unexpected() + ", expected ',' or ']'");
    }
  }

  // Four hex digits after "\u"; -1 if they are not there.
  long Hex4(size_t at) const {
    if (at > text_.size() || text_.size() - at < 4) return -1;
    long v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      const char c = text_[i];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  Result<std::string> String(const std::string& path) {
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (AtEnd()) return Syntax(path, "unterminated string");
      const unsigned char c = Peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        HELIX_TRY(Escape(path, out));
      } else if (c < 0x20) {
        return Syntax(path, "control character " + Hex(c) + " in string");
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        const Utf8Char u = DecodeUtf8(text_, pos_);
        if (u.length == 0) {
          return Refuse(path, "string at offset " + std::to_string(pos_) +
                                  " is not valid UTF-8 (Go would read U+FFFD)");
        }
        out.append(text_.substr(pos_, u.length));
        pos_ += u.length;
      }
    }
  }

  Status Escape(const std::string& path, std::string& out) {
    if (text_.size() - pos_ < 2) return Syntax(path, "unterminated string");
    const char e = text_[pos_ + 1];
    static constexpr std::string_view kFrom = "\"\\/bfnrt";
    static constexpr std::string_view kTo = "\"\\/\b\f\n\r\t";
    if (size_t i = kFrom.find(e); i != std::string_view::npos) {
      out += kTo[i];
      pos_ += 2;
      return Ok();
    }
    if (e != 'u') return Syntax(path, "invalid escape " + QuoteEscaped(std::string("\\") + e));
    const long first = Hex4(pos_ + 2);
    if (first < 0) return Syntax(path, "invalid \\u escape");
    char32_t cp = static_cast<char32_t>(first);
    size_t length = 6;
    if (first >= 0xd800 && first <= 0xdbff && text_.substr(pos_ + 6, 2) == "\\u") {
      const long second = Hex4(pos_ + 8);
      if (second >= 0xdc00 && second <= 0xdfff) {
        cp = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
        length = 12;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) {
      char buf[24];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(first));
      return Refuse(path, std::string("lone surrogate ") + buf + " at offset " +
                              std::to_string(pos_) + " (Go would read U+FFFD)");
    }
    AppendUtf8(out, cp);
    pos_ += length;
    return Ok();
  }

  bool Digits() {
    const size_t start = pos_;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') ++pos_;
    return pos_ > start;
  }

  Result<json> Number(const std::string& path) {
    const size_t start = pos_;
    bool integer = true;
    if (Peek() == '-') ++pos_;
    if (!AtEnd() && Peek() == '0') {
      ++pos_;
    } else if (!Digits()) {
      return Syntax(path, "invalid number");
    }
    if (!AtEnd() && Peek() == '.') {
      ++pos_;
      integer = false;
      if (!Digits()) return Syntax(path, "invalid number");
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      ++pos_;
      integer = false;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (!Digits()) return Syntax(path, "invalid number");
    }
    const std::string_view literal = text_.substr(start, pos_ - start);
    const char* first = literal.data();
    const char* last = first + literal.size();
    if (integer) {
      if (literal[0] == '-') {
        int64_t v;
        if (std::from_chars(first, last, v).ec == std::errc()) return json(v);
      } else {
        uint64_t v;
        if (std::from_chars(first, last, v).ec == std::errc()) return json(v);
      }
      return Refuse(path, "integer " + std::string(literal) + " is out of range");
    }
    double v;
    auto [end, ec] = std::from_chars(first, last, v);
    if (ec == std::errc::result_out_of_range) {
      // from_chars reports underflow too; Go (and strtod) read a tiny
      // number as zero or a subnormal, and only overflow is an error.
      v = std::strtod(std::string(literal).c_str(), nullptr);
      if (std::isinf(v)) return Refuse(path, "number " + std::string(literal) + " is out of range");
    } else if (ec != std::errc() || end != last) {
      return Syntax(path, "invalid number");
    }
    return json(v);
  }

  std::string_view text_;
  std::string root_;
  size_t pos_ = 0;
};

}  // namespace

Result<json> ReadBodyJson(std::string_view text, std::string_view root) {
  return Reader(text, root).ReadDocument();
}

}  // namespace helix::authz
