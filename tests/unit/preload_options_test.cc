#include <catch2/catch.hpp>

#include <fstream>

#include "fakes/temp_dir.h"
#include "volume-plugin/tools/preload.h"

using helix::vol::ParsePreloadArgs;
using helix::vol::PreloadSource;

namespace {

std::string ErrorOf(const std::vector<std::string>& args) {
  auto parsed = ParsePreloadArgs(args, "");
  REQUIRE_FALSE(parsed.ok());
  return parsed.error().message();
}

}  // namespace

TEST_CASE("preload arguments keep sources in order and read every flag", "[preload]") {
  auto o = ParsePreloadArgs({"--name",         "golden",
                             "--engine-image", "desk:1",
                             "--image",        "a/b:c",
                             "--archive",      "/dev/null",
                             "--image",        "d@sha256:00",
                             "--size",         "30G",
                             "--label",        "helix.desktop=true",
                             "--shape",        "equivalent",
                             "--cap-drop",     "SYS_RESOURCE",
                             "--memory",       "4G",
                             "--cpus",         "1.5",
                             "--pids-limit",   "4096",
                             "--timeout",      "60"},
                            "unix:///run/x.sock");
  REQUIRE(o.ok());
  REQUIRE(o->sources.size() == 3);
  CHECK(o->sources[0].kind == PreloadSource::Kind::kImage);
  CHECK(o->sources[1].kind == PreloadSource::Kind::kArchive);
  CHECK(o->sources[2].ref == "d@sha256:00");
  CHECK(o->host == "unix:///run/x.sock");
  CHECK(o->labels.at("helix.desktop") == "true");
  CHECK_FALSE(o->privileged);
  CHECK(o->cap_drop == std::vector<std::string>{"SYS_RESOURCE"});
  CHECK(o->memory == 4ull << 30);
  CHECK(o->nano_cpus == 1500000000);
  CHECK(o->pids_limit == 4096);
  CHECK(o->timeout_seconds == 60);
}

TEST_CASE("preload without DOCKER_HOST talks to the default socket", "[preload]") {
  auto o = ParsePreloadArgs({"--name", "golden", "--engine-image", "d", "--image", "x"}, "");
  REQUIRE(o.ok());
  CHECK(o->host == "unix:///var/run/docker.sock");
  CHECK(o->privileged);
}

TEST_CASE("preload refuses bad arguments naming the flag and the value", "[preload]") {
  const std::vector<std::string> base = {"--name", "golden", "--engine-image", "d", "--image", "x"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return ErrorOf(args);
  };
  CHECK(with({"--cpus", "0"}) ==
        "preload: --cpus \"0\": not a positive number of CPUs (examples: 2, 0.5)");
  CHECK(with({"--cpus", "1.2.3"}) ==
        "preload: --cpus \"1.2.3\": not a positive number of CPUs (examples: 2, 0.5)");
  CHECK(with({"--shape", "root"}) ==
        "preload: --shape \"root\": want privileged, equivalent or userns");
  CHECK(with({"--cap-drop", "SYS_RESOURCE"}) == "preload: --cap-drop needs --shape equivalent");
  CHECK(with({"--label", "=x"}) == "preload: --label \"=x\": want KEY=VALUE");
  CHECK(with({"--image", "a b"}) == "preload: --image \"a b\": not an image reference");
  CHECK(with({"--image", "x?all=1"}) == "preload: --image \"x?all=1\": not an image reference");
  CHECK(with({"--pids-limit", "-1"}) ==
        "preload: --pids-limit \"-1\": not a positive whole number");
  CHECK(with({"--host", "tcp://1.2.3.4:2375"}) ==
        "preload: --host: engine address \"tcp://1.2.3.4:2375\" is not a Unix socket (want "
        "unix:///path or /path)");
  CHECK(with({"--frobnicate", "1"}) == "preload: unknown flag \"--frobnicate\", see helixvol help");
  CHECK(with({"--size"}) == "preload: flag --size needs a value");
  CHECK(with({"stray"}) ==
        "preload: unexpected argument \"stray\" (images go after --image, archives after "
        "--archive)");
  CHECK(ErrorOf({"--engine-image", "d", "--image", "x"}) ==
        "preload: --name (the snapshot to make) is required");
  CHECK(ErrorOf({"--name", "-bad", "--engine-image", "d", "--image", "x"}) ==
        "preload: --name: invalid volume name \"-bad\": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+");
  CHECK(ErrorOf({"--name", "golden", "--image", "x"}) ==
        "preload: --engine-image (the desktop's engine image) is required");
  CHECK(ErrorOf({"--name", "golden", "--engine-image", "d"}) ==
        "preload: nothing to load: give at least one --image or --archive");
  CHECK(ErrorOf({"--name", "golden", "--engine-image", "d", "--archive", "/nonexistent/x.tar"}) ==
        "preload: --archive \"/nonexistent/x.tar\": cannot be read: No such file or directory");
}

TEST_CASE("preload --shape userns takes the profile compacted and the owner", "[preload]") {
  helix::testing::TempDir dir;
  const std::string profile = dir.path() + "/p.json";
  std::ofstream(profile) << "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"x\": \"a b\"\n}\n";
  const std::vector<std::string> base = {"--name", "golden", "--engine-image", "d", "--image", "x"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto o = ParsePreloadArgs(
      with({"--shape", "userns", "--seccomp", profile, "--owner", "100000:100000"}), "");
  REQUIRE(o.ok());
  CHECK(o->userns);
  CHECK_FALSE(o->privileged);
  CHECK(o->seccomp == R"({"defaultAction":"SCMP_ACT_ERRNO","x":"a b"})");
  CHECK(o->owner == "100000:100000");
  CHECK(ErrorOf(with({"--shape", "userns", "--owner", "1:1"})) ==
        "preload: --shape userns needs --seccomp FILE, the desktops' seccomp profile "
        "(contrib/userns-desktop/seccomp-userns.json)");
  CHECK(ErrorOf(with({"--shape", "userns", "--seccomp", profile})) ==
        "preload: --shape userns needs --owner UID:GID, the first uid and gid of the engine's "
        "userns-remap range");
  CHECK(ErrorOf(with({"--seccomp", profile})) == "preload: --seccomp needs --shape userns");
  CHECK(ErrorOf(with({"--owner", "root"})) ==
        "preload: --owner \"root\": must be UID:GID in decimal, as 100000:100000");
  std::ofstream(dir.path() + "/bad.json") << "{\"a";
  CHECK(ErrorOf(
            with({"--shape", "userns", "--seccomp", dir.path() + "/bad.json", "--owner", "1:1"})) ==
        "preload: --seccomp \"" + dir.path() + "/bad.json\": not a JSON seccomp profile");
  CHECK(ErrorOf(with({"--seccomp", "/nonexistent.json"})) ==
        "preload: --seccomp \"/nonexistent.json\": cannot be read: No such file or directory");
}
