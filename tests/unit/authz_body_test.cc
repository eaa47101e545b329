// The body reader: bodies come out as dockerd's Go decoder reads them, keys
// as sent (struct fields are matched case-insensitively by Member(), map keys
// stay exact), or not at all when Go and a plain reader could disagree.
#include <catch2/catch.hpp>
#include <string>

#include "authz-plugin/request/body_json.h"

using namespace helix;
using namespace helix::authz;
using nlohmann::json;

namespace {

json Read(std::string_view text) {
  auto r = ReadBodyJson(text);
  INFO(text);
  REQUIRE(r.ok());
  return *r;
}

std::string ErrorOf(std::string_view text) {
  auto r = ReadBodyJson(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  return r.error().message();
}

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("body keys are kept as sent at every level, values untouched", "[authz]") {
  CHECK(Read(R"({"Image":"Busybox","HostConfig":{"Binds":["/A:/B"],"Privileged":true}})") ==
        json::parse(R"({"Image":"Busybox","HostConfig":{"Binds":["/A:/B"],"Privileged":true}})"));
  CHECK(Read(R"([{"A":{"B":[{"C":1}]}}])") == json::parse(R"([{"A":{"B":[{"C":1}]}}])"));
}

TEST_CASE("map keys stay exact: a label in upper case is another label", "[authz]") {
  CHECK(Read(R"({"Labels":{"HELIX.SESSION":"s1"}})") ==
        json::parse(R"({"Labels":{"HELIX.SESSION":"s1"}})"));
}

TEST_CASE("escaped keys are compared after unescaping", "[authz]") {
  CHECK(Read(R"({"\u0048ostConfig":{"\u0050rivileged":true}})") ==
        json::parse(R"({"HostConfig":{"Privileged":true}})"));
  CHECK(ErrorOf(R"({"HostConfig":{},"\u0048ostConfig":{}})") ==
        "RequestBody: duplicate key \"HostConfig\" (Go keeps the last one)");
  CHECK(ErrorOf(R"({"hostconfig":{},"\u0048ostConfig":{}})") ==
        "RequestBody: keys \"hostconfig\" and \"HostConfig\" differ only in case (Go matches "
        "keys case-insensitively)");
}

TEST_CASE("exact duplicate keys are refused", "[authz]") {
  CHECK(ErrorOf(R"({"Image":"a","Image":"b"})") ==
        "RequestBody: duplicate key \"Image\" (Go keeps the last one)");
  CHECK(ErrorOf(R"({"HostConfig":{"Privileged":false,"Privileged":true}})") ==
        "RequestBody.HostConfig: duplicate key \"Privileged\" (Go keeps the last one)");
}

TEST_CASE("keys that differ only in ASCII case are refused", "[authz]") {
  CHECK(ErrorOf(R"({"HostConfig":{"Privileged":false,"privileged":true}})") ==
        "RequestBody.HostConfig: keys \"Privileged\" and \"privileged\" differ only in case (Go "
        "matches keys case-insensitively)");
}

TEST_CASE("duplicate objects, which Go would merge, are refused", "[authz]") {
  CHECK(ErrorOf(R"({"HostConfig":{"Memory":1},"hostConfig":{"Privileged":true}})") ==
        "RequestBody: keys \"HostConfig\" and \"hostConfig\" differ only in case (Go matches "
        "keys case-insensitively)");
  CHECK(ErrorOf(R"({"A":[{"B":{"C":1,"c":2}}]})") ==
        "RequestBody.A[0].B: keys \"C\" and \"c\" differ only in case (Go matches keys "
        "case-insensitively)");
}

TEST_CASE("the same key in sibling objects is not a duplicate", "[authz]") {
  CHECK(Read(R"({"A":{"X":1},"B":{"X":2},"C":[{"X":3},{"x":4}]})") ==
        json::parse(R"({"A":{"X":1},"B":{"X":2},"C":[{"X":3},{"x":4}]})"));
}

TEST_CASE("non-ASCII keys are refused, Go's Unicode folding included", "[authz]") {
  // U+212A KELVIN SIGN: Go matches "\u212aernelMemory" to KernelMemory.
  CHECK(ErrorOf("{\"\xe2\x84\xaa"
                "ernelMemory\":1}") ==
        "RequestBody: key \"\\u212aernelMemory\" is not ASCII (Go folds Unicode case when "
        "matching keys)");
  CHECK(ErrorOf(R"({"HostConfig":{"Privileged":false,"Privileged\u017f":true}})") ==
        "RequestBody.HostConfig: key \"Privileged\\u017f\" is not ASCII (Go folds Unicode case "
        "when matching keys)");
  CHECK(ErrorOf(R"({"\u212Aey":1})") ==
        "RequestBody: key \"\\u212aey\" is not ASCII (Go folds Unicode case when matching keys)");
  CHECK(ErrorOf("{\"caf\xc3\xa9\":1}") ==
        "RequestBody: key \"caf\\u00e9\" is not ASCII (Go folds Unicode case when matching keys)");
}

TEST_CASE("keys with control characters are refused", "[authz]") {
  CHECK(ErrorOf(R"({"Host\u0000Config":{}})") ==
        "RequestBody: key \"Host\\u0000Config\" has a control character");
}

TEST_CASE("non-ASCII values are kept as they are", "[authz]") {
  CHECK(Read("{\"Labels\":{\"k\":\"caf\xc3\xa9 \\u212a \\ud83d\\ude00\"}}") ==
        json{{"Labels", {{"k", "caf\xc3\xa9 \xe2\x84\xaa \xf0\x9f\x98\x80"}}}});
}

TEST_CASE("data after the first value is refused", "[authz]") {
  CHECK(ErrorOf(R"({"Image":"a"}{"Image":"b"})") ==
        "RequestBody: trailing data at offset 13 after the JSON value (dockerd's decoder stops "
        "at the first value)");
  CHECK(ErrorOf("{} x") ==
        "RequestBody: trailing data at offset 3 after the JSON value (dockerd's decoder stops at "
        "the first value)");
  CHECK(ErrorOf("1 2") ==
        "RequestBody: trailing data at offset 2 after the JSON value (dockerd's decoder stops at "
        "the first value)");
  CHECK(Read(" \t\r\n{} \n") == json::object());
}

TEST_CASE("invalid UTF-8 in strings is refused", "[authz]") {
  CHECK(ErrorOf("{\"Image\":\"busy\xff\"}") ==
        "RequestBody.Image: string at offset 14 is not valid UTF-8 (Go would read U+FFFD)");
  CHECK(ErrorOf("{\"Cmd\":[\"a\",\"\xc0\xaf\"]}") ==
        "RequestBody.Cmd[1]: string at offset 13 is not valid UTF-8 (Go would read U+FFFD)");
  // An encoded surrogate is not UTF-8 either.
  CHECK(ErrorOf("\"\xed\xa0\x80\"") ==
        "RequestBody: string at offset 1 is not valid UTF-8 (Go would read U+FFFD)");
  CHECK(ErrorOf("{\"Im\xff\":1}") ==
        "RequestBody: string at offset 4 is not valid UTF-8 (Go would read U+FFFD)");
}

TEST_CASE("lone surrogate escapes are refused", "[authz]") {
  CHECK(ErrorOf(R"({"Image":"\ud800"})") ==
        "RequestBody.Image: lone surrogate \\ud800 at offset 10 (Go would read U+FFFD)");
  CHECK(ErrorOf(R"({"Image":"\udc00\ud800"})") ==
        "RequestBody.Image: lone surrogate \\udc00 at offset 10 (Go would read U+FFFD)");
  CHECK(ErrorOf(R"({"Image":"\ud800\u0041"})") ==
        "RequestBody.Image: lone surrogate \\ud800 at offset 10 (Go would read U+FFFD)");
  CHECK(ErrorOf(R"({"\ud800":1})") ==
        "RequestBody: lone surrogate \\ud800 at offset 2 (Go would read U+FFFD)");
}

TEST_CASE("nesting up to the limit is read, deeper is refused", "[authz]") {
  CHECK(Read(Nested(kMaxBodyDepth)).is_array());
  const std::string too_deep = Nested(kMaxBodyDepth + 1);
  CHECK(ErrorOf(too_deep).ends_with(": nesting deeper than 64 levels"));
  CHECK(ErrorOf(too_deep).starts_with("RequestBody[0][0]"));
  CHECK(ErrorOf(std::string(100000, '[')).ends_with(": nesting deeper than 64 levels"));
  CHECK(ErrorOf(R"({"a":)" + std::string(70, '[')).ends_with(": nesting deeper than 64 levels"));
}

TEST_CASE("scalars and null are values like any other", "[authz]") {
  CHECK(Read("null") == json(nullptr));
  CHECK(Read("true") == json(true));
  CHECK(Read(R"("text")") == json("text"));
  CHECK(Read(R"({"Cmd":null})") == json{{"Cmd", nullptr}});
}

TEST_CASE("numbers are kept exactly as nlohmann keeps them", "[authz]") {
  auto body = Read(R"({"Memory":9223372036854775807,"Min":-9223372036854775808,)"
                   R"("Big":18446744073709551615,"Cpus":1.5,"Exp":1e3,"Zero":-0,"Tiny":1e-400})");
  CHECK(body == json::parse(R"({"Memory":9223372036854775807,"Min":-9223372036854775808,)"
                            R"("Big":18446744073709551615,"Cpus":1.5,"Exp":1e3,"Zero":-0,)"
                            R"("Tiny":0.0})"));
  CHECK(body["Memory"].is_number_unsigned());
  CHECK(body["Min"].is_number_integer());
  CHECK(body["Big"].get<uint64_t>() == 18446744073709551615ULL);
  CHECK(body["Exp"].is_number_float());
}

TEST_CASE("numbers no integer or double can hold are refused", "[authz]") {
  CHECK(ErrorOf(R"({"Memory":18446744073709551616})") ==
        "RequestBody.Memory: integer 18446744073709551616 is out of range");
  CHECK(ErrorOf(R"({"Memory":-9223372036854775809})") ==
        "RequestBody.Memory: integer -9223372036854775809 is out of range");
  CHECK(ErrorOf(R"({"Cpus":1e400})") == "RequestBody.Cpus: number 1e400 is out of range");
}

TEST_CASE("malformed JSON is refused with the offset", "[authz]") {
  CHECK(ErrorOf("") ==
        "RequestBody: invalid JSON at offset 0: unexpected end of input, "
        "expected a value");
  CHECK(ErrorOf(R"({"Image" "a"})") ==
        "RequestBody: invalid JSON at offset 9: unexpected \"\\\"\", expected ':'");
  CHECK(ErrorOf(R"({"Image":"a",})") ==
        "RequestBody: invalid JSON at offset 13: unexpected \"}\", expected a string key");
  CHECK(ErrorOf(R"({"Cmd":[1,]})") ==
        "RequestBody.Cmd[1]: invalid JSON at offset 10: unexpected \"]\", expected a value");
  CHECK(ErrorOf(R"({"Cmd":[1 2]})") ==
        "RequestBody.Cmd: invalid JSON at offset 10: unexpected \"2\", expected ',' or ']'");
  CHECK(ErrorOf(R"({"A":1 "B":2})") ==
        "RequestBody: invalid JSON at offset 7: unexpected \"\\\"\", expected ',' or '}'");
  CHECK(ErrorOf(R"({"A":tru})") == "RequestBody.A: invalid JSON at offset 5: invalid literal");
  CHECK(ErrorOf(R"({"A":01})") ==
        "RequestBody: invalid JSON at offset 6: unexpected \"1\", expected ',' or '}'");
  CHECK(ErrorOf(R"({"A":1.})") == "RequestBody.A: invalid JSON at offset 7: invalid number");
  CHECK(ErrorOf(R"({"A":-})") == "RequestBody.A: invalid JSON at offset 6: invalid number");
  CHECK(ErrorOf(R"({"A":1e})") == "RequestBody.A: invalid JSON at offset 7: invalid number");
  CHECK(ErrorOf(R"({"A":"x)") == "RequestBody.A: invalid JSON at offset 7: unterminated string");
  CHECK(ErrorOf("{\"A\":\"a\nb\"}") ==
        "RequestBody.A: invalid JSON at offset 7: control character 0x0a in string");
  CHECK(ErrorOf(R"({"A":"\x"})") ==
        "RequestBody.A: invalid JSON at offset 6: invalid escape \"\\\\x\"");
  CHECK(ErrorOf(R"({"A":"\u12G4"})") ==
        "RequestBody.A: invalid JSON at offset 6: invalid \\u escape");
  CHECK(ErrorOf("\xef\xbb\xbf{}") ==
        "RequestBody: invalid JSON at offset 0: unexpected byte 0xef, expected a value");
  CHECK(ErrorOf("{'A':1}") ==
        "RequestBody: invalid JSON at offset 1: unexpected \"'\", expected a string key");
}

TEST_CASE("paths in errors bracket keys that are not identifiers", "[authz]") {
  CHECK(ErrorOf(R"({"Labels":{"com.example.role":[}})") ==
        "RequestBody.Labels[\"com.example.role\"][0]: invalid JSON at offset 31: unexpected \"}\", "
        "expected a value");
}
