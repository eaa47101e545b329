#include "common/settings.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

namespace helix {
namespace {

Environment Env(std::map<std::string, std::string> vars) { return Environment(std::move(vars)); }

TEST_CASE("Environment::FromProcess sees this process's variables", "[common]") {
  ::setenv("HELIX_SETTINGS_TEST", "a=b", 1);
  Environment env = Environment::FromProcess();
  ::unsetenv("HELIX_SETTINGS_TEST");
  // Only the first "=" separates name from value.
  CHECK(env.Get("HELIX_SETTINGS_TEST") == "a=b");
}

TEST_CASE("Environment::Get treats unset and empty alike", "[common]") {
  Environment env = Env({{"EMPTY", ""}, {"SET", "x"}});
  CHECK(env.Get("SET") == "x");
  CHECK_FALSE(env.Get("EMPTY").has_value());
  CHECK_FALSE(env.Get("UNSET").has_value());
}

TEST_CASE("Environment::String returns the value or the fallback", "[common]") {
  Environment env = Env({{"NAME", "helixvol"}, {"EMPTY", ""}});
  CHECK(env.String("NAME", "other").value() == "helixvol");
  CHECK(env.String("EMPTY", "other").value() == "other");
  CHECK(env.String("UNSET", "other").value() == "other");
}

TEST_CASE("Environment::Size parses the value as a size", "[common]") {
  Environment env = Env({{"DEFAULT_SIZE", "50G"}});
  CHECK(env.Size("DEFAULT_SIZE", "20G").value() == 50ULL << 30);
}

TEST_CASE("Environment::Size parses the fallback when the variable is unset", "[common]") {
  Environment env = Env({});
  CHECK(env.Size("DEFAULT_SIZE", "20G").value() == 20ULL << 30);
}

TEST_CASE("Environment::Size names the setting in its error", "[common]") {
  Environment env = Env({{"DEFAULT_SIZE", "abc"}});
  auto r = env.Size("DEFAULT_SIZE", "20G");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(r.error().message() ==
        "setting DEFAULT_SIZE=\"abc\": size \"abc\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("Environment::Size blames a bad fallback on the default", "[common]") {
  auto r = Env({}).Size("DEFAULT_SIZE", "lots");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() ==
        "default of setting DEFAULT_SIZE: size \"lots\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("Environment::Bool accepts true, false, 1, 0, yes and no in any case", "[common]") {
  for (const char* yes : {"true", "TRUE", "True", "1", "yes", "YES"}) {
    INFO(yes);
    CHECK(Env({{"X", yes}}).Bool("X", false).value() == true);
  }
  for (const char* no : {"false", "FALSE", "0", "no", "No"}) {
    INFO(no);
    CHECK(Env({{"X", no}}).Bool("X", true).value() == false);
  }
}

TEST_CASE("Environment::Bool returns the fallback when unset", "[common]") {
  CHECK(Env({}).Bool("X", true).value() == true);
  CHECK(Env({}).Bool("X", false).value() == false);
}

TEST_CASE("Environment::Bool refuses anything else", "[common]") {
  auto r = Env({{"X", "maybe"}}).Bool("X", false);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(r.error().message() == "setting X=\"maybe\": must be true or false");
}

TEST_CASE("Environment::Unsigned reads a whole number", "[common]") {
  CHECK(Env({{"N", "42"}}).Unsigned("N", 7).value() == 42);
  CHECK(Env({{"N", "0"}}).Unsigned("N", 7).value() == 0);
  CHECK(Env({{"N", "18446744073709551615"}}).Unsigned("N", 7).value() == UINT64_MAX);
  CHECK(Env({}).Unsigned("N", 7).value() == 7);
}

TEST_CASE("Environment::Unsigned refuses what is not a whole number", "[common]") {
  for (const char* bad : {"abc", "-1", "+1", "1.5", " 1", "1e3"}) {
    INFO(bad);
    auto r = Env({{"N", bad}}).Unsigned("N", 7);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message() == "setting N=\"" + std::string(bad) + "\": must be a whole number");
  }
}

TEST_CASE("Environment::Unsigned refuses a number past 2^64", "[common]") {
  auto r = Env({{"N", "18446744073709551616"}}).Unsigned("N", 7);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "setting N=\"18446744073709551616\": is too large");
}

TEST_CASE("Environment::Choice accepts one of the choices", "[common]") {
  const std::vector<std::string> choices = {"auto", "reflink", "copy"};
  CHECK(Env({{"POOL", "copy"}}).Choice("POOL", choices, "auto").value() == "copy");
  CHECK(Env({}).Choice("POOL", choices, "auto").value() == "auto");
}

TEST_CASE("Environment::Choice lists the choices when refusing", "[common]") {
  auto r = Env({{"POOL", "nonsense"}}).Choice("POOL", {"auto", "reflink", "copy"}, "auto");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(r.error().message() == "setting POOL=\"nonsense\": must be one of auto, reflink, copy");
}

TEST_CASE("Environment::Choice is case-sensitive", "[common]") {
  auto r = Env({{"POOL", "Copy"}}).Choice("POOL", {"auto", "reflink", "copy"}, "auto");
  CHECK_FALSE(r.ok());
}

}  // namespace
}  // namespace helix
