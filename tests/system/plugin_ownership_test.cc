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
#include "system/kernel_scratch.h"
#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::PluginProcess;
using helix::vol::testing::ReadAll;
using nlohmann::json;
namespace vt = helix::vol::testing;
using vt::MountsOn;

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

// Loop devices still bound to `image` after it was unlinked.
std::vector<std::string> DeletedLoops(const std::string& image) {
  auto all = helix::vol::KernelLoopDevices().List();
  REQUIRE(all.ok());
  std::vector<std::string> found;
  for (const auto& b : *all) {
    if (b.backing_path == image + " (deleted)") found.push_back(b.device);
  }
  return found;
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

TEST_CASE("recovery and Mount leave alone a tmpfs someone mounted at a volume's mount point",
          "[plugin][ownership]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  const std::string target = p.mount_root() + "/v1";
  REQUIRE(helix::MakeDirs(target).ok());
  REQUIRE(::mount("tmpfs", target.c_str(), "tmpfs", 0, "size=1m") == 0);
  vt::WriteAt(target + "/theirs", 0, "not helixvol's");

  p.Kill(SIGKILL);
  p.Start();
  CHECK(vt::ReadAll(target + "/theirs") == "not helixvol's");
  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId1}}) ==
        "mount volume \"v1\": " + target +
            " already has tmpfs from tmpfs mounted on it, which helixvol did not mount; unmount "
            "it first");
  CHECK(vt::CountLoopsBackedBy(*helix::IdOf(p.image("v1"))) == 0);
  CHECK(p.Status("v1")["mount_references"] == 0);
  CHECK(vt::ReadAll(target + "/theirs") == "not helixvol's");

  REQUIRE(::umount2(target.c_str(), 0) == 0);
  auto mounted = p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}});
  REQUIRE(mounted.ok());
  CHECK((*mounted)["Mountpoint"] == target + "/data");
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
}

TEST_CASE("a volume whose image was deleted while mounted stays listed until release and Remove",
          "[plugin][ownership]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Create", {{"Name", "v2"}, {"Opts", {{"size", "32M"}}}}).ok());
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  const std::string image = p.image("v1");
  REQUIRE(::unlink(image.c_str()) == 0);
  CHECK(p.Status("v1")["error"] == "image " + image + ": No such file or directory");

  p.Kill(SIGKILL);
  p.Start();
  CHECK(p.Names() == std::vector<std::string>{"v1", "v2"});
  json st = p.Status("v1");
  const std::string broken = "image " + image +
                             " is missing (deleted while the volume was mounted?); its data "
                             "cannot come back: `helixvol release` lets go of its mount, then "
                             "remove the volume";
  CHECK(st["error"] == broken);
  CHECK(st["mounted"] == true);
  CHECK(st["mount_references"] == 1);
  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId2}}) == "mount volume \"v1\": " + broken);
  CHECK(p.CallError("Remove", {{"Name", "v1"}}).find("in use by 1 container") != std::string::npos);

  auto r = helix::Run({HELIXVOL_BINARY, "release", "v1", "--socket", p.socket()},
                      std::chrono::seconds(30));
  REQUIRE(r.ok());
  CHECK(r->out == "released " + kId1 + "\n");
  CHECK(p.Status("v1")["mounted"] == false);
  CHECK(MountsOn(p.mount_root() + "/v1").empty());
  CHECK(DeletedLoops(image).empty());
  REQUIRE(p.Call("Remove", {{"Name", "v1"}}).ok());
  CHECK(p.Names() == std::vector<std::string>{"v2"});
  CHECK(*helix::ListDir(p.volumes_dir()) == std::vector<std::string>{"v2"});
}

TEST_CASE("Mount names the read-only loop device someone else bound to the image",
          "[plugin][ownership]") {
  REQUIRE_ROOT_OR_SKIP();
  PluginProcess p(std::map<std::string, std::string>{{"POOL", "copy"}});
  REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "32M"}}}}).ok());
  auto losetup =
      helix::RunChecked({"losetup", "-r", "-f", "--show", p.image("v1")}, std::chrono::seconds(10));
  REQUIRE(losetup.ok());
  const std::string device = losetup->out.substr(0, losetup->out.find('\n'));
  const std::string refused =
      "mount volume \"v1\": " + p.image("v1") + " is bound read-only to " + device +
      ", which helixvol did not set up (losetup -r or a read-only mount -o loop); a read-only "
      "device cannot be mounted read-write: detach it (losetup -d " +
      device + ") once nothing uses it";
  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId1}}) == refused);
  CHECK(p.Status("v1")["mount_references"] == 0);
  CHECK(MountsOn(p.mount_root() + "/v1").empty());
  // Not helixvol's to detach, at recovery either.
  p.Kill(SIGKILL);
  p.Start();
  CHECK(vt::CountLoopsBackedBy(*helix::IdOf(p.image("v1"))) == 1);
  CHECK(p.CallError("Mount", {{"Name", "v1"}, {"ID", kId1}}) == refused);

  REQUIRE(helix::RunChecked({"losetup", "-d", device}, std::chrono::seconds(10)).ok());
  REQUIRE(p.Call("Mount", {{"Name", "v1"}, {"ID", kId1}}).ok());
  REQUIRE(p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}}).ok());
}
