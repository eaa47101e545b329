#include "volume-plugin/domain/create_options.h"

#include <catch2/catch.hpp>
#include <string>

#include "volume-plugin/system/idmap_mount.h"

using helix::vol::CreateOptions;
using helix::vol::ParseCreateOptions;
using helix::vol::SizeLimits;
using helix::vol::ValidateName;

namespace {

const SizeLimits kLimits{20ull << 30, 1ull << 40};

std::string NameError(const std::string& name) {
  auto s = ValidateName(name);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == helix::ErrorKind::kInvalidArgument);
  return s.error().message();
}

std::string OptionError(const std::map<std::string, std::string>& opts) {
  auto r = ParseCreateOptions(opts, kLimits);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == helix::ErrorKind::kInvalidArgument);
  return r.error().message();
}

}  // namespace

TEST_CASE("volume names follow Docker's rule", "[options]") {
  CHECK(ValidateName("s1").ok());
  CHECK(ValidateName("desktop-42_data.v2").ok());
  CHECK(ValidateName(std::string(255, 'a')).ok());
}

TEST_CASE("volume names that could leave the pool are refused", "[options]") {
  CHECK(NameError("../x") ==
        R"(invalid volume name "../x": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  CHECK(NameError("a/b") == R"(invalid volume name "a/b": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  CHECK(NameError("") == R"(invalid volume name "": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  CHECK(NameError(".hidden") ==
        R"(invalid volume name ".hidden": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  CHECK(NameError(std::string("a\0b", 3)) ==
        R"(invalid volume name "a\u0000b": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  CHECK(NameError("x") == R"(invalid volume name "x": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
}

TEST_CASE("a 300-character volume name is refused with its length", "[options]") {
  CHECK(NameError(std::string(300, 'a')) == "invalid volume name \"" + std::string(32, 'a') +
                                                "\"... (300 characters): at most 255 characters");
}

TEST_CASE("size defaults to DEFAULT_SIZE and is rounded up to 4 KiB", "[options]") {
  auto r = ParseCreateOptions({}, kLimits);
  REQUIRE(r.ok());
  CHECK(r->size == 20ull << 30);
  CHECK(r->exclusive);
  auto odd = ParseCreateOptions({{"size", "16777217"}}, kLimits);
  REQUIRE(odd.ok());
  CHECK(odd->size == (16ull << 20) + 4096);
}

TEST_CASE("size and exclusive are parsed and kept as given", "[options]") {
  auto r = ParseCreateOptions({{"size", "2G"}, {"exclusive", "false"}}, kLimits);
  REQUIRE(r.ok());
  CHECK(r->size == 2ull << 30);
  CHECK_FALSE(r->exclusive);
  CHECK(r->given == std::map<std::string, std::string>{{"size", "2G"}, {"exclusive", "false"}});
}

TEST_CASE("bad sizes are refused naming the option and the value", "[options]") {
  CHECK(OptionError({{"size", "abc"}}) ==
        R"(invalid option size="abc": size "abc" is not a size (examples: 512M, 20G, 1T))");
  CHECK(OptionError({{"size", "-1"}}) == R"(invalid option size="-1": size "-1" must be positive)");
  CHECK(OptionError({{"size", "0"}}) == R"(invalid option size="0": size "0" must be positive)");
  CHECK(OptionError({{"size", "99999999T"}}) ==
        R"(invalid option size="99999999T": size "99999999T" is too large)");
  CHECK(OptionError({{"size", "1M"}}) == R"(invalid option size="1M": must be at least 16MiB)");
  CHECK(OptionError({{"size", "2T"}}) ==
        R"(invalid option size="2T": larger than MAX_SIZE (1TiB))");
}

TEST_CASE("unknown options are refused with the list of valid ones", "[options]") {
  CHECK(OptionError({{"bogus", "1"}}) ==
        R"(invalid option "bogus" (valid: exclusive, from, idmap, owner, size, snapshot))");
  CHECK(OptionError({{"sise", "2G"}}) ==
        R"(invalid option "sise" (valid: exclusive, from, idmap, owner, size, snapshot))");
}

TEST_CASE("exclusive takes only true or false", "[options]") {
  CHECK(OptionError({{"exclusive", "maybe"}}) ==
        R"(invalid option exclusive="maybe": must be true or false)");
}

TEST_CASE("owner is UID:GID in decimal, or empty for none", "[options]") {
  auto given = ParseCreateOptions({{"owner", "100000:100001"}}, kLimits);
  REQUIRE(given.ok());
  CHECK(given->owner == "100000:100001");
  auto none = ParseCreateOptions({{"owner", ""}}, kLimits);
  REQUIRE(none.ok());
  CHECK(none->owner == "");
  auto absent = ParseCreateOptions({}, kLimits);
  REQUIRE(absent.ok());
  CHECK_FALSE(absent->owner.has_value());
  auto parsed = helix::vol::ParseOwner("4294967294:0");
  REQUIRE(parsed.ok());
  CHECK(parsed->uid == 4294967294u);
  CHECK(parsed->gid == 0);
}

TEST_CASE("a bad owner names the option and the value", "[options]") {
  const std::string why = ": must be UID:GID in decimal, as 100000:100000";
  for (std::string bad : {"100000", "root:root", "100000:", ":5", "-1:0", "1:2:3", "4294967295:0",
                          "99999999999:0", " 1:1", "0x10:0"}) {
    CAPTURE(bad);
    CHECK(OptionError({{"owner", bad}}) == "invalid option owner=\"" + bad + "\"" + why);
  }
}

TEST_CASE("idmap is CONTAINER:HOST:COUNT ranges, never with owner", "[options]") {
  auto one = ParseCreateOptions({{"idmap", "0:100000:65536"}}, kLimits);
  REQUIRE(one.ok());
  CHECK(one->idmap == "0:100000:65536");
  auto ranges = helix::vol::ParseIdmap("0:0:1,1:200001:1000");
  REQUIRE(ranges.ok());
  REQUIRE(ranges->size() == 2);
  CHECK((*ranges)[1].inside == 1);
  CHECK((*ranges)[1].outside == 200001);
  CHECK((*ranges)[1].count == 1000);
  const std::string why = "must be CONTAINER:HOST:COUNT[,...] in decimal, as 0:100000:65536";
  for (std::string bad : {"0:100000", "a:b:c", "0:100000:65536,", "-1:0:1", "0:1:2:3"}) {
    CAPTURE(bad);
    CHECK(OptionError({{"idmap", bad}}) == "invalid option idmap=\"" + bad + "\": " + why);
  }
  CHECK(OptionError({{"idmap", "0:1:0"}}) ==
        "invalid option idmap=\"0:1:0\": a range of 0 ids maps nothing");
  CHECK(OptionError({{"idmap", "0:100:10,5:200:10"}}) ==
        "invalid option idmap=\"0:100:10,5:200:10\": ranges overlap");
  CHECK(OptionError({{"idmap", "0:4294967290:10"}}) ==
        "invalid option idmap=\"0:4294967290:10\": range 0:4294967290:10 runs past the last id");
  CHECK(OptionError({{"idmap", "0:1:1"}, {"owner", "1:1"}}) ==
        "invalid option owner=\"1:1\": not with idmap: the idmapped mount already shows data/ as "
        "the mapped root's");
}
