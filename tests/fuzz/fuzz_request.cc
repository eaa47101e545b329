// libFuzzer target for helixauthz's request layer. Every input is used four
// ways: as the AuthZReq document dockerd POSTs, as a raw request body, as a
// raw RequestUri, and as the headers and query of a request to a route that
// Go's form parsing reads (FuzzFraming). Nothing may crash (ASan and UBSan
// watch), and whatever Normalize() accepts must keep the promises request.h
// makes; a broken promise abort()s so that libFuzzer saves the input.
//
// The documents also go through the whole decision path (Authorizer, the
// policy engine, a fixed engine view), which must never allow a request
// whose document, URI or body could not be read.
//
// Built only with clang: `make fuzz` (or tests/fuzz/run_fuzz.sh).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <unistd.h>

#include "authz-plugin/protocol/authorizer.h"
#include "authz-plugin/request/body_json.h"
#include "authz-plugin/request/request.h"
#include "authz-plugin/request/request_uri.h"
#include "authz-plugin/request/utf8.h"

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

// Body keys are printable ASCII, and no two keys of one object are equal
// after case folding: so Member() finds at most one.
void CheckKeys(const json& value) {
  if (value.is_object()) {
    std::set<std::string> folded;
    for (const auto& [key, child] : value.items()) {
      std::string lower = key;
      for (char& c : lower) {
        Expect(c >= 0x20 && c < 0x7f, "body keys are printable ASCII");
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      Expect(folded.insert(lower).second,
             "accepted bodies have no keys that collide after folding");
      CheckKeys(child);
    }
  } else if (value.is_array()) {
    for (const auto& child : value) CheckKeys(child);
  }
}

// Go's strings.TrimSpace: the Unicode White_Space code points.
bool IsGoSpace(char32_t c) {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

// strings.ToLower(strings.TrimSpace(value)) as far as ASCII results go:
// nullopt when something not ASCII remains (or the text is not UTF-8), which
// matches none of the ASCII words the callers compare with. The form types
// and Go's false words have no letter that Unicode lowers into ASCII but K.
std::optional<std::string> GoTrimLower(std::string_view value) {
  std::u32string points;
  for (size_t i = 0; i < value.size();) {
    Utf8Char ch = DecodeUtf8(value, i);
    if (ch.length == 0) return std::nullopt;  // Go would read U+FFFD
    points.push_back(ch.code_point == 0x212a ? U'k' : ch.code_point);
    i += ch.length;
  }
  size_t a = 0, b = points.size();
  while (a < b && IsGoSpace(points[a])) ++a;
  while (b > a && IsGoSpace(points[b - 1])) --b;
  std::string out;
  for (size_t i = a; i < b; ++i) {
    char32_t c = points[i];
    if (c >= 0x80) return std::nullopt;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

// The media type Go's mime.ParseMediaType reads, written independently of
// request.cc.
std::string GoMediaType(std::string_view value) {
  return GoTrimLower(value.substr(0, value.find(';'))).value_or("");
}

// dockerd's httputils.BoolValue on one value.
bool GoBool(std::string_view value) {
  auto s = GoTrimLower(value);
  return !s || !(s->empty() || *s == "0" || *s == "no" || *s == "false" || *s == "none");
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

// A small, fixed engine: one desktop (privileged, helixvol data root), one
// ordinary container, the desktop image, a snapshot and a data root volume.
VolumeInfo Volume(const std::string& name, const std::string& driver, bool snapshot,
                  std::map<std::string, std::string> labels) {
  VolumeInfo v;
  v.name = name;
  v.driver = driver;
  v.snapshot = snapshot;
  v.labels = std::move(labels);
  return v;
}

class FixedEngine : public EngineView {
 public:
  Result<ContainerInfo> InspectContainer(const std::string& ref) override {
    if (ref == "desktop-1" || ref == std::string(64, 'd')) {
      ContainerInfo c{std::string(64, 'd'), "/desktop-1", kImage, {{"Privileged", true}}, {}};
      c.mounts.push_back({"volume", "s1", "", "/var/lib/docker", "helixvol", true});
      return c;
    }
    if (ref == "web" || ref == std::string(64, 'e')) {
      return ContainerInfo{std::string(64, 'e'), "/web", kImage, json::object(), {}};
    }
    return NotFound("no such container: " + ref);
  }
  Result<ImageInfo> InspectImage(const std::string& ref) override {
    if (ref == "desktop" || ref == kImage) return ImageInfo{kImage, {}};
    if (ref == "busybox") return ImageInfo{"sha256:" + std::string(64, 'b'), {}};
    return NotFound("no such image: " + ref);
  }
  Result<VolumeInfo> InspectVolume(const std::string& name) override {
    if (name == "golden") return Volume(name, "helixvol", true, {});
    if (name == "s1") {
      return Volume(name, "helixvol", false, {{"helix.session", "s1"}});
    }
    return NotFound("no such volume: " + name);
  }
  Result<NetworkInfo> InspectNetwork(const std::string& ref) override {
    if (ref == "host" || ref == "77e1") return NetworkInfo{"77e1c0", "host", "host"};
    return NotFound("no such network: " + ref);
  }
  Result<std::vector<std::string>> ContainersUsingVolume(const std::string& name) override {
    if (name == "s1") return std::vector<std::string>{std::string(64, 'd')};
    return std::vector<std::string>{};
  }
  Result<EngineFacts> Facts() override { return EngineFacts{false, ""}; }
  static inline const std::string kImage = "sha256:" + std::string(64, 'a');
};

// The shipped policy with the fixed engine's desktop image allowed, written
// once to a file so that the Authorizer reads it as the plugin does.
Authorizer& TheAuthorizer() {
  static std::string path = [] {
    std::string p = "/tmp/helixauthz-fuzz-policy-" + std::to_string(::getpid()) + ".json";
    std::FILE* f = std::fopen(HELIX_SHIPPED_POLICY, "rb");
    Expect(f != nullptr, "the shipped policy can be read");
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    std::fclose(f);
    json policy = json::parse(text);
    policy["privileged"]["images"] = {FixedEngine::kImage};
    std::FILE* out = std::fopen(p.c_str(), "wb");
    std::fputs(policy.dump().c_str(), out);
    std::fclose(out);
    return p;
  }();
  static PolicyStore store(path);
  static bool loaded = [] {
    Expect(store.Load().ok(), "the fuzz policy loads");
    return true;
  }();
  (void)loaded;
  static FixedEngine engine;
  static AuditLog audit(std::fopen("/dev/null", "w"), false);
  static Authorizer authorizer(store, engine, audit);
  return authorizer;
}

// One AuthZReq document in, everything derived from it checked, and the
// decision on it: never a crash, and never an allow for a request that
// could not be read.
void FuzzDocument(std::string_view bytes) {
  Decision decision = TheAuthorizer().DecideRequest(bytes);
  Expect(decision.allow || !decision.message.empty(), "a deny always says why");
  auto parsed = ParseAuthzRequest(bytes);
  if (!parsed.ok()) {
    Expect(!decision.allow, "an unreadable document is denied");
    return;
  }
  auto normalized = Normalize(*parsed);
  if (!normalized.ok()) {
    Expect(!decision.allow, "an unreadable URI or body is denied");
    return;
  }
  CheckNormalized(*normalized);
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
  Expect(reference == body, "strict reader and nlohmann agree on accepted bodies");
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

// The input as the framing of a request to a route whose handler reads its
// parameters through Go's forms: lines are Content-Type, Content-Length,
// Transfer-Encoding, the query, and which route. Whatever helixauthz
// decides, it must never allow a request Go could read a form body from
// (Go's reading of the Content-Type, computed here independently), a
// bodiless POST whose body it cannot see, or stdin on a desktop's attach.
void FuzzFraming(std::string_view bytes) {
  std::vector<std::string_view> lines;
  for (size_t at = 0; lines.size() < 5;) {
    size_t nl = bytes.find('\n', at);
    lines.push_back(
        bytes.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at));
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  while (lines.size() < 5) lines.push_back({});
  static const char* kTargets[] = {"/v1.41/containers/desktop-1/attach",
                                   "/v1.41/containers/web/attach", "/v1.41/containers/web/start",
                                   "/v1.41/containers/web/rename",
                                   "/v1.41/containers/desktop-1/attach/ws"};
  const size_t which = lines[4].empty() ? 0 : static_cast<unsigned char>(lines[4][0]) % 5;
  AuthzRequest request;
  request.method = which == 4 ? "GET" : "POST";
  request.uri = std::string(kTargets[which]) + "?" + std::string(lines[3]);
  if (!lines[0].empty()) request.headers["Content-Type"] = std::string(lines[0]);
  if (!lines[1].empty()) request.headers["Content-Length"] = std::string(lines[1]);
  if (!lines[2].empty()) request.headers["Transfer-Encoding"] = std::string(lines[2]);
  const Decision decision = TheAuthorizer().DecideRequest(json{
      {"RequestMethod", request.method},
      {"RequestUri", request.uri},
      {"RequestHeaders", request.headers}}.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!decision.allow) return;
  const std::string type = GoMediaType(lines[0]);
  Expect(type != "application/x-www-form-urlencoded" && type != "multipart/form-data",
         "a request Go reads a form body from is never allowed");
  if (request.method == "POST") {
    Expect(!lines[1].empty() && lines[1].find_first_not_of('0') == std::string_view::npos,
           "a bodiless POST is allowed only with Content-Length: 0");
    Expect(lines[2].empty(), "a bodiless POST is never allowed with a Transfer-Encoding");
  }
  if (which == 0) {
    auto query = ParseGoQuery(lines[3]);
    if (query.ok()) {
      for (auto [it, end] = query->equal_range("stdin"); it != end; ++it) {
        Expect(!GoBool(it->second), "stdin is never attached to a desktop");
      }
    }
  }
  Expect(which != 4, "a desktop's websocket attach is never allowed");
}

}  // namespace
}  // namespace helix::authz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  helix::authz::FuzzDocument(bytes);
  helix::authz::FuzzBody(bytes);
  helix::authz::FuzzUri(bytes);
  helix::authz::FuzzFraming(bytes);
  return 0;
}
