#include <catch2/catch.hpp>

#include "common/flags.h"

using helix::Flags;

TEST_CASE("flags take values, keep defaults and remember the order given", "[flags]") {
  Flags f({{"--socket", "/run/x.sock"}, {"--image", ""}, {"--id", ""}}, true);
  REQUIRE(f.Parse({"--image", "a", "name", "--image", "b"}).ok());
  CHECK(f.Get("--socket") == "/run/x.sock");
  CHECK(f.Get("--image") == "b");
  CHECK(f.positional() == std::vector<std::string>{"name"});
  CHECK(f.given() ==
        std::vector<std::pair<std::string, std::string>>{{"--image", "a"}, {"--image", "b"}});
}

TEST_CASE("flag mistakes are named, with the command's prefix and hint", "[flags]") {
  Flags f({{"--size", ""}}, false, "preload: ", ", see helixvol help");
  auto unknown = f.Parse({"--frobnicate", "1"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message() == "preload: unknown flag \"--frobnicate\", see helixvol help");
  Flags g({{"--size", ""}}, false, "preload: ", ", see helixvol help");
  CHECK(g.Parse({"--size"}).error().message() == "preload: flag --size needs a value");
  Flags h({{"--size", ""}}, false);
  CHECK(h.Parse({"x"}).error().message() == "unexpected argument \"x\"");
  CHECK_THROWS(h.Get("--sise"));
}
