#include "volume-plugin/cli/serve_settings.h"

#include <catch2/catch.hpp>

namespace helix::vol {
namespace {

Result<ServeSettings> Read(std::map<std::string, std::string> vars) {
  return ReadServeSettings(Environment(std::move(vars)), "/var/lib/hv", "");
}

std::string ErrorOf(std::map<std::string, std::string> vars) {
  auto s = Read(std::move(vars));
  REQUIRE_FALSE(s.ok());
  return s.error().message();
}

TEST_CASE("serve settings have their documented defaults", "[settings]") {
  auto s = Read({});
  REQUIRE(s.ok());
  CHECK(s->manager.mount_root == "/var/lib/hv/mounts");
  CHECK(s->manager.default_size == 20ull << 30);
  CHECK(s->manager.max_size == 1ull << 40);
  CHECK(s->manager.pool_warning == 10ull << 30);
  CHECK(s->manager.pool_critical == 1ull << 30);
  CHECK(s->manager.mount_timeout == std::chrono::seconds(25));
  CHECK(s->manager.freeze_timeout == std::chrono::seconds(10));
  CHECK(s->pool.mode == "auto");
  CHECK(s->pool.self_managed_size == 100ull << 30);
  CHECK(s->pool.state_dir == "/var/lib/hv");
  CHECK(s->log_level == "info");
  CHECK(s->fault_point.empty());
}

TEST_CASE("POOL_RESERVE is the old name of POOL_CRITICAL", "[settings]") {
  CHECK(Read({{"POOL_RESERVE", "2G"}})->manager.pool_critical == 2ull << 30);
  CHECK(Read({{"POOL_CRITICAL", "3G"}})->manager.pool_critical == 3ull << 30);
  CHECK(Read({{"POOL_CRITICAL", "3G"}, {"POOL_RESERVE", "3G"}})->manager.pool_critical ==
        3ull << 30);
  CHECK(
      ErrorOf({{"POOL_CRITICAL", "3G"}, {"POOL_RESERVE", "2G"}}) ==
      R"(setting POOL_RESERVE="2G" is the old name of POOL_CRITICAL="3G"; set only POOL_CRITICAL)");
  CHECK(ErrorOf({{"POOL_RESERVE", "lots"}}) ==
        R"(setting POOL_RESERVE="lots": size "lots" is not a size (examples: 512M, 20G, 1T))");
}

TEST_CASE("the warning watermark must not be under the critical one", "[settings]") {
  CHECK(ErrorOf({{"POOL_WARNING", "512M"}}) ==
        "setting POOL_WARNING=512MiB is under POOL_CRITICAL=1GiB: the warning must come before "
        "creates are refused");
  auto same = Read({{"POOL_WARNING", "2G"}, {"POOL_CRITICAL", "2G"}});
  REQUIRE(same.ok());
  CHECK(same->manager.pool_warning == 2ull << 30);
  CHECK(ErrorOf({{"POOL_WARNING", "-1"}}) ==
        R"(setting POOL_WARNING="-1": size "-1" must be positive)");
}

TEST_CASE("a bad serve setting names itself and its value", "[settings]") {
  CHECK(ErrorOf({{"DEFAULT_SIZE", "abc"}}) ==
        R"(setting DEFAULT_SIZE="abc": size "abc" is not a size (examples: 512M, 20G, 1T))");
  CHECK(ErrorOf({{"DEFAULT_SIZE", "2T"}}) == "setting DEFAULT_SIZE=2T is larger than MAX_SIZE");
  CHECK(
      ErrorOf({{"DEFAULT_FROM", "../x"}}) ==
      R"(setting DEFAULT_FROM="../x": invalid volume name "../x": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  CHECK(ErrorOf({{"POOL", "fast"}}).rfind(R"(setting POOL="fast": )", 0) == 0);
}

TEST_CASE("DEFAULT_OWNER is UID:GID, checked at start", "[settings]") {
  auto s = Read({{"DEFAULT_OWNER", "100000:100000"}});
  REQUIRE(s.ok());
  CHECK(s->manager.default_owner == "100000:100000");
  CHECK(Read({})->manager.default_owner.empty());
  CHECK(ErrorOf({{"DEFAULT_OWNER", "dockremap"}}) ==
        R"(setting DEFAULT_OWNER="dockremap": must be UID:GID in decimal, as 100000:100000)");
}

TEST_CASE("DEFAULT_IDMAP is checked at start", "[settings]") {
  auto s = Read({{"DEFAULT_IDMAP", "0:100000:65536"}});
  REQUIRE(s.ok());
  CHECK(s->manager.default_idmap == "0:100000:65536");
  CHECK(
      ErrorOf({{"DEFAULT_IDMAP", "100000"}}) ==
      R"(setting DEFAULT_IDMAP="100000": must be CONTAINER:HOST:COUNT[,...] in decimal, as 0:100000:65536)");
}

}  // namespace
}  // namespace helix::vol
