#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "authz-plugin/cli/settings.h"

using helix::Environment;
using helix::authz::ReadAuthzSettings;

TEST_CASE("helixauthz settings have their documented defaults", "[authz]") {
  auto s = ReadAuthzSettings(Environment({}));
  REQUIRE(s.ok());
  CHECK(s->log_level == "info");
  CHECK_FALSE(s->audit_allows);
  auto all = ReadAuthzSettings(Environment({{"AUDIT", "all"}, {"LOG_LEVEL", "debug"}}));
  REQUIRE(all.ok());
  CHECK(all->audit_allows);
  CHECK(all->log_level == "debug");
}

TEST_CASE("a bad helixauthz setting names the setting and the value", "[authz]") {
  auto s = ReadAuthzSettings(Environment(std::map<std::string, std::string>{{"AUDIT", "allow"}}));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "setting AUDIT=\"allow\": must be one of deny, all");
}
