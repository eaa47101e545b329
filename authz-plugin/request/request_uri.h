// The request target as dockerd routes it.
//
// dockerd hands authorization plugins Go's raw r.RequestURI, but routes on
// something else: Go's net/http parses the target with url.ParseRequestURI
// and percent-decodes the path into r.URL.Path; dockerd's router is a
// gorilla/mux Router created with mux.NewRouter() and no further options, so
// it matches routes against that *decoded* path (no UseEncodedPath) and
// answers any path that path.Clean would change ("//", ".", "..") with a 301
// redirect instead of routing it (no SkipClean). Every route is registered
// twice, as "/v{version:[0-9.]+}" + path and as the bare path.
//
// NormalizeRequestUri() computes that decoded, version-stripped path, and
// refuses every target that a policy and dockerd could read differently.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace helix::authz {

struct RequestTarget {
  std::string path;                               // as in NormalizedRequest::path
  std::optional<std::string> api_version;         // "1.41", or nullopt without a prefix
  std::multimap<std::string, std::string> query;  // as Go's url.ParseQuery reads it
};

// Accepts origin form ("/v1.41/containers/json?all=1") and absolute form
// with an http or https scheme ("http://docker/v1.41/containers/json").
// Errors start with `RequestUri "<uri>": `.
Result<RequestTarget> NormalizeRequestUri(std::string_view uri);

// Parses a raw query the way Go's url.ParseQuery does ("&" separates pairs,
// "+" is a space, a pair without "=" has an empty value, empty pairs are
// skipped, repeated keys keep every value in order), except that ";" is an
// error: Go up to 1.16 treated it as a separator and Go 1.17 onwards refuses
// it, and dockerd 20.10 was released with both. Errors describe the problem
// without naming the field.
Result<std::multimap<std::string, std::string>> ParseGoQuery(std::string_view raw_query);

}  // namespace helix::authz
