#include "authz-plugin/request/request_uri.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

#include "authz-plugin/request/utf8.h"

namespace helix::authz {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The escape starting at text[pos] ('%'), as sent: "%2f", or what is left of
// an incomplete one ("%2").
std::string EscapeAt(std::string_view text, size_t pos) { return std::string(text.substr(pos, 3)); }

// Go's unescape(): "%XX" becomes a byte, a malformed escape is an error (Go
// answers 400 before any handler runs, so refusing loses nothing). In a query
// component "+" is a space; in a path it stays "+".
Result<std::string> PercentDecode(std::string_view text, bool query_component,
                                  std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 1 < text.size() ? HexValue(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgument(std::string(what) + " has an invalid percent-escape " +
                               QuoteEscaped(EscapeAt(text, i)));
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && query_component) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

// Characters that must not arrive percent-encoded in the path. dockerd
// decodes "%2F" before routing, so "/containers/a%2Fb/json" reaches the
// route for a container named "a/b", while a policy that splits the raw
// path sees one segment more. "?", "#" and "%" would change meaning if
// anyone downstream decoded or split the path a second time.
Status CheckPathEscapes(std::string_view raw_path) {
  for (size_t i = 0; i + 2 < raw_path.size(); ++i) {
    if (raw_path[i] != '%') continue;
    const int hi = HexValue(raw_path[i + 1]);
    const int lo = HexValue(raw_path[i + 2]);
    if (hi < 0 || lo < 0) continue;  // PercentDecode() reports it
    const char decoded = static_cast<char>(hi * 16 + lo);
    if (decoded == '/' || decoded == '?' || decoded == '#' || decoded == '%') {
      return InvalidArgument("path has an encoded " + QuoteEscaped(std::string(1, decoded)) + " (" +
                             QuoteEscaped(EscapeAt(raw_path, i)) + ")");
    }
  }
  return Ok();
}

// After decoding, the path must be what path.Clean would leave alone, or
// gorilla/mux answers with a redirect instead of the route: no empty, "."
// or ".." segments and no trailing "/". Control characters can only come
// from escapes ("%00"); they are refused so that no log line or C string
// API reads the path shorter than Go does.
Status CheckDecodedPath(std::string_view path) {
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return InvalidArgument(std::string("path has a control character (") + buf +
                             ") after percent-decoding");
    }
  }
  if (!IsValidUtf8(path)) return InvalidArgument("path is not valid UTF-8 after percent-decoding");
  if (path == "/") return InvalidArgument("path names no endpoint");
  size_t start = 1;  // path[0] == '/'
  while (true) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty()) {
      return InvalidArgument(end == path.size() ? "path ends with \"/\""
                                                : "path has an empty segment (\"//\")");
    }
    if (segment == "." || segment == "..") {
      return InvalidArgument("path has a " + QuoteEscaped(segment) + " segment");
    }
    if (end == path.size()) return Ok();
    start = end + 1;
  }
}

// mux's "/v{version:[0-9.]+}" takes any run of digits and dots; dockerd then
// compares versions field by field with strconv.Atoi, ignoring errors, so
// "1..41", "01.41" and "1.41.0" would all be read somehow. Only the form every
// client sends is accepted: two numbers without leading zeros.
bool IsVersionSegment(std::string_view segment) {
  return segment.size() >= 2 && segment[0] == 'v' &&
         std::all_of(segment.begin() + 1, segment.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

bool IsPlainNumber(std::string_view digits) {
  return !digits.empty() && digits.size() <= 4 && (digits[0] != '0' || digits.size() == 1) &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsWellFormedVersion(std::string_view version) {
  const size_t dot = version.find('.');
  return dot != std::string_view::npos && IsPlainNumber(version.substr(0, dot)) &&
         IsPlainNumber(version.substr(dot + 1));
}

std::string_view FirstSegment(std::string_view path) {
  const size_t end = path.find('/', 1);
  return path.substr(1, end == std::string_view::npos ? path.size() - 1 : end - 1);
}

// Splits off an absolute form's "scheme://authority". Go's server accepts
// any scheme here; only http and https are, because anything else is not a
// request a Docker client makes.
Result<std::string_view> StripAbsoluteForm(std::string_view uri) {
  if (!uri.empty() && uri[0] == '/') return uri;
  const size_t colon = uri.find("://");
  const std::string_view scheme = uri.substr(0, colon);
  const bool scheme_ok =
      colon != std::string_view::npos && !scheme.empty() && std::isalpha(scheme[0]) &&
      std::all_of(scheme.begin(), scheme.end(),
                  [](char c) { return std::isalnum(c) || c == '+' || c == '-' || c == '.'; });
  if (!scheme_ok) return InvalidArgument("does not start with \"/\" or \"http://\"");
  std::string lower(scheme);
  for (char& c : lower) c = static_cast<char>(std::tolower(c));
  if (lower != "http" && lower != "https") {
    return InvalidArgument("scheme " + QuoteEscaped(scheme) + " is not http or https");
  }
  // As in Go's url.Parse: the query is split off first, then the authority
  // runs to the first "/".
  std::string_view rest = uri.substr(colon + 3);
  const size_t end = std::min(rest.find('/'), rest.find('?'));
  const std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("authority " + QuoteEscaped(authority) + " carries user information");
  }
  if (end == std::string_view::npos || rest[end] != '/') {
    return InvalidArgument("absolute form has no path");
  }
  return rest.substr(end);
}

Result<RequestTarget> Normalize(std::string_view uri) {
  // Clients percent-encode everything else; raw spaces cannot occur (they
  // end the request target) and Go refuses control characters itself.
  for (unsigned char c : uri) {
    if (c <= 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return InvalidArgument(std::string("has byte ") + buf + " (only printable ASCII is allowed)");
    }
  }
  // Go's ParseRequestURI does not split off a fragment: it stays in the path.
  if (uri.find('#') != std::string_view::npos) {
    return InvalidArgument("has a fragment (\"#\")");
  }
  auto target = StripAbsoluteForm(uri);
  if (!target.ok()) return target.error();
  const size_t question = target->find('?');
  const std::string_view raw_path = target->substr(0, question);
  const std::string_view raw_query =
      question == std::string_view::npos ? std::string_view() : target->substr(question + 1);

  HELIX_TRY(CheckPathEscapes(raw_path));
  auto path = PercentDecode(raw_path, /*query_component=*/false, "path");
  if (!path.ok()) return path.error();
  HELIX_TRY(CheckDecodedPath(*path));

  RequestTarget out;
  std::string_view first = FirstSegment(*path);
  if (IsVersionSegment(first)) {
    const std::string_view version = first.substr(1);
    if (!IsWellFormedVersion(version)) {
      return InvalidArgument("API version " + QuoteEscaped(version) +
                             " is not of the form \"1.41\"");
    }
    if (path->size() == first.size() + 1) return InvalidArgument("path names no endpoint");
    out.api_version = std::string(version);
    out.path = path->substr(first.size() + 1);
    if (IsVersionSegment(FirstSegment(out.path))) {
      return InvalidArgument("path has a second API version prefix " +
                             QuoteEscaped(FirstSegment(out.path)));
    }
  } else {
    out.path = std::move(*path);
  }
  auto query = ParseGoQuery(raw_query);
  if (!query.ok()) return query.error();
  out.query = std::move(*query);
  return out;
}

}  // namespace

Result<std::multimap<std::string, std::string>> ParseGoQuery(std::string_view raw_query) {
  if (raw_query.find(';') != std::string_view::npos) {
    return InvalidArgument(
        "query has a \";\" (Go before 1.17 splits pairs on it, later versions refuse it)");
  }
  std::multimap<std::string, std::string> out;
  while (!raw_query.empty()) {
    const size_t amp = raw_query.find('&');
    const std::string_view pair = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), /*query_component=*/true, "query");
    if (!key.ok()) return key.error();
    auto value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1),
                      /*query_component=*/true, "query");
    if (!value.ok()) return value.error();
    // Go keeps the bytes; refusing what is not UTF-8 spares the policy from
    // comparing, or quoting into its JSON answer, text that is not text.
    if (!IsValidUtf8(*key) || !IsValidUtf8(*value)) {
      return InvalidArgument("query is not valid UTF-8 after percent-decoding");
    }
    // multimap::emplace keeps equal keys in insertion order.
    out.emplace(std::move(*key), std::move(*value));
  }
  return out;
}

Result<RequestTarget> NormalizeRequestUri(std::string_view uri) {
  auto target = Normalize(uri);
  if (!target.ok()) return target.error().Wrap("RequestUri " + QuoteEscaped(uri));
  return target;
}

}  // namespace helix::authz
