// What helixvol owns and what it leaves alone, through the binary on the real
// kernel: one process per state directory; mounts and loop devices that
// someone else made; an image deleted under a mounted volume.
#include <sys/mount.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "common/file_util.h"
#include "common/spawn.h"
#include "system/file_bytes.h"
#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::PluginProcess;
using helix::vol::testing::ReadAll;
using nlohmann::json;

namespace {

const std::string kId1(64, 'a');
const std::string kId2(64, 'b');

// A second `helixvol serve` on `state`, given at most 20 s: one that is
// refused exits at once; one that is not would serve until killed.
helix::ProcessResult SecondServe(const std::string& socket, const std::string& state,
                                 const std::string& mount_root) {
  auto r = helix::Run({HELIXVOL_BINARY, "serve", "--socket", socket, "--state-dir", state,
                       "--mount-root", mount_root},
                      std::chrono::seconds(20));
  INFO((r.ok() ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("a second helixvol on a state directory in use is refused and changes nothing",
          "[plugin][ownership]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  const std::string meta = ReadAll(p.meta("v1"));

  // Another socket and another mount root: the same state directory all the same.
  auto second = SecondServe(p.scratch("second.sock"), p.state_dir(), p.scratch("mounts2"));
  // The lock file names the owner: its PID, as that process sees itself.
  auto owner = helix::ReadFile(p.state_dir() + "/helixvol.lock");
  REQUIRE(owner.ok());
  const std::string refused =
      "helixvol: state directory " + p.state_dir() + " is in use by another helixvol (pid " +
      owner->substr(0, owner->find('\n')) + "); one helixvol per state directory\n";
  CHECK(second.exit_code == 1);
  CHECK(second.err == refused);
  // The same socket as well.
  auto same = SecondServe(p.socket(), p.state_dir(), p.mount_root());
  CHECK(same.exit_code == 1);
  CHECK(same.err == refused);

  CHECK(ReadAll(p.meta("v1")) == meta);
  CHECK_FALSE(helix::IdOf(p.scratch("mounts2/v1/data")).ok());
  CHECK(p.Status("v1")["mount_references"] == 1);
  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId2}}).find("in use by another") !=
        std::string::npos);

  // The kernel drops the lock with the process: a kill -9 leaves nothing to clean.
  p.Kill(SIGKILL);
  p.Start();
  CHECK(p.Status("v1")["mount_references"] == 1);
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
}
