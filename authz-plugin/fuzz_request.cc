// libFuzzer target for helixauthz's request layer. Every input is used three
// ways: as the AuthZReq document dockerd POSTs, as a raw request body, and as
// a raw RequestUri. Nothing may crash (ASan and UBSan watch), and whatever
// Normalize() accepts must keep the promises request.h makes; a broken
// promise abort()s so that libFuzzer saves the input.
//
// Built only with clang: `make fuzz` (or tests/fuzz/run_fuzz.sh).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "authz-plugin/body_json.h"
#include "authz-plugin/request.h"
#include "authz-plugin/request_uri.h"
#include "authz-plugin/utf8.h"

namespace helix::authz {
namespace {

using nlohmann::json;

void Expect(bool holds, const char* promise) {
  if (holds) return;
  std::fprintf(stderr, "broken promise: %s\n", promise);
  std::abort();
}

bool IsVersionLike(std::string_view segment) {
  return segment.size() >= 2 && segment[0] == 'v' &&
         segment.substr(1).find_first_not_of("0123456789.") == std::string_view::npos;
}

void CheckKeys(const json& value) {
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      for (char c : key) {
        Expect(c >= 0x20 && c < 0x7f, "body keys are printable ASCII");
        Expect(!(c >= 'A' && c <= 'Z'), "body keys are lower case");
      }
      CheckKeys(child);
    }
  } else if (value.is_array()) {
    for (const auto& child : value) CheckKeys(child);
  }
}

// nlohmann objects hold each key once, so folding nlohmann's own reading of
// a body the strict reader accepted must not merge anything.
json FoldKeys(const json& value) {
  if (value.is_array()) {
    json out = json::array();
    for (const auto& child : value) out.push_back(FoldKeys(child));
    return out;
  }
  if (!value.is_object()) return value;
  json out = json::object();
  for (const auto& [key, child] : value.items()) {
    std::string folded = key;
    for (char& c : folded) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    Expect(!out.contains(folded), "accepted bodies have no keys that collide after folding");
    out[folded] = FoldKeys(child);
  }
  return out;
}

void CheckPath(const std::string& path) {
  Expect(path.size() > 1 && path[0] == '/', "path starts with / and names something");
  Expect(path.back() != '/', "path has no trailing /");
  Expect(path.find("//") == std::string::npos, "path has no //");
  Expect(path.find_first_of("%?#") == std::string::npos, "path has no %, ? or #");
  Expect(IsValidUtf8(path), "path is UTF-8");
  for (unsigned char c : path) Expect(c >= 0x20 && c != 0x7f, "path has no control characters");
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view segment = std::string_view(path).substr(start, end - start);
    Expect(segment != "." && segment != "..", "path has no . or .. segments");
    if (start == 1) Expect(!IsVersionLike(segment), "path keeps no version prefix");
    start = end + 1;
  }
}

void CheckNormalized(const NormalizedRequest& request) {
  static const std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
  bool known = false;
  for (auto m : kMethods) known = known || request.method == m;
  Expect(known, "method is one dockerd routes");
  CheckPath(request.path);
  if (request.api_version) {
    const std::string& v = *request.api_version;
    Expect(
        IsVersionLike("v" + v) && v.find('.') != std::string::npos && v.find('.') == v.rfind('.'),
        "api_version has the form N.N");
  }
  for (const auto& [key, value] : request.query) {
    Expect(IsValidUtf8(key) && IsValidUtf8(value), "query is UTF-8");
  }
  if (request.body) CheckKeys(*request.body);
}

// One AuthZReq document in, everything derived from it checked. This is the
// seam for the policy engine: its decision on a NormalizedRequest belongs
// next to CheckNormalized(), under the same rule (never crash, and every
// error a deny).
void FuzzDocument(std::string_view bytes) {
  auto parsed = ParseAuthzRequest(bytes);
  if (!parsed.ok()) return;
  auto normalized = Normalize(*parsed);
  if (normalized.ok()) CheckNormalized(*normalized);
}

void FuzzBody(std::string_view bytes) {
  AuthzRequest request;
  request.method = "POST";
  request.uri = "/v1.41/containers/create";
  request.body = std::string(bytes);
  auto normalized = Normalize(request);
  if (!normalized.ok() || !normalized->body) return;
  CheckNormalized(*normalized);
  const json& body = *normalized->body;
  // The strict reader accepts a subset of what nlohmann accepts, and reads
  // it the same way up to key case.
  const json reference = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  Expect(!reference.is_discarded(), "nlohmann reads every body the strict reader accepts");
  Expect(FoldKeys(reference) == body, "strict reader and nlohmann agree on accepted bodies");
  // Its output reads back unchanged.
  auto again = ReadBodyJson(body.dump());
  Expect(again.ok() && *again == body, "normalised bodies read back unchanged");
}

void FuzzUri(std::string_view bytes) {
  auto target = NormalizeRequestUri(bytes);
  if (!target.ok()) return;
  CheckPath(target->path);
  // A path of plain printable ASCII normalises to itself, with or without
  // the version it came with.
  for (unsigned char c : target->path) {
    if (c <= 0x20 || c >= 0x7f) return;
  }
  const std::string prefix = target->api_version ? "/v" + *target->api_version : "";
  auto again = NormalizeRequestUri(prefix + target->path);
  Expect(again.ok() && again->path == target->path && again->api_version == target->api_version,
         "a normalised path normalises to itself");
}

}  // namespace
}  // namespace helix::authz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  helix::authz::FuzzDocument(bytes);
  helix::authz::FuzzBody(bytes);
  helix::authz::FuzzUri(bytes);
  return 0;
}
