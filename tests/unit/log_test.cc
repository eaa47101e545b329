#include "common/log.h"

#include <catch2/catch.hpp>

namespace helix {
namespace {

TEST_CASE("InitLogging sets the level by name", "[common]") {
  REQUIRE(InitLogging("debug").ok());
  CHECK(spdlog::get_level() == spdlog::level::debug);
  REQUIRE(InitLogging("error").ok());
  CHECK(spdlog::get_level() == spdlog::level::err);
  REQUIRE(InitLogging("trace").ok());
  CHECK(spdlog::get_level() == spdlog::level::trace);
  REQUIRE(InitLogging("off").ok());
  CHECK(spdlog::get_level() == spdlog::level::off);
  REQUIRE(InitLogging("info").ok());
}

TEST_CASE("InitLogging accepts warning as well as warn, in any case", "[common]") {
  REQUIRE(InitLogging("warning").ok());
  CHECK(spdlog::get_level() == spdlog::level::warn);
  REQUIRE(InitLogging("WARN").ok());
  CHECK(spdlog::get_level() == spdlog::level::warn);
  REQUIRE(InitLogging("info").ok());
}

TEST_CASE("InitLogging defaults to info when the level is empty", "[common]") {
  REQUIRE(InitLogging("error").ok());
  REQUIRE(InitLogging("").ok());
  CHECK(spdlog::get_level() == spdlog::level::info);
}

TEST_CASE("InitLogging refuses an unknown level and keeps the current one", "[common]") {
  REQUIRE(InitLogging("error").ok());
  Status s = InitLogging("loud");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(s.error().message() ==
        "setting LOG_LEVEL=\"loud\": must be one of trace, debug, info, warn, error, off");
  CHECK(spdlog::get_level() == spdlog::level::err);
  REQUIRE(InitLogging("info").ok());
}

}  // namespace
}  // namespace helix
