#include "volume-plugin/domain/volume_manager.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <future>

#include "common/file_util.h"
#include "fakes/fake_system.h"
#include "fakes/temp_dir.h"

using namespace helix;
using namespace helix::vol;
using helix::testing::TempDir;
using helix::vol::testing::CallLog;
using helix::vol::testing::FakeLoopDevices;
using helix::vol::testing::FakeMounter;
using helix::vol::testing::FakeSystem;

namespace {

const std::string kId1(64, '1');
const std::string kId2(64, '2');

// A VolumeManager over fakes, in a fresh temporary state directory.
struct Fixture {
  TempDir dir;
  FakeSystem sys;
  CallLog& log = sys.log;
  FakeLoopDevices& loops = sys.loops;
  FakeMounter& mounter = sys.mounter;
  ManagerConfig config;
  std::unique_ptr<VolumeManager> manager;

  Fixture() {
    config.state_dir = dir / "state";
    config.mount_root = dir / "mnt";
    config.pool_critical = 0;
    config.pool_warning = 0;
    Restart();
  }
  // A new manager over the same pool and kernel state, as after a kill -9.
  void Restart() {
    manager = std::make_unique<VolumeManager>(config, sys.Ops());
    REQUIRE(manager->Recover().ok());
  }
  std::vector<std::string> PoolEntries() { return *ListDir(config.state_dir + "/volumes"); }
  VolumeMeta MetaOnDisk(const std::string& name) {
    std::string path = config.state_dir + "/volumes/" + name + "/meta.json";
    return *MetaFromJson(*ReadFile(path), path);
  }
  nlohmann::json Status(const std::string& name) {
    auto v = manager->Get(name);
    REQUIRE(v.ok());
    return v->status;
  }
};

}  // namespace

TEST_CASE("create makes a sparse image and meta.json, formatted once", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("s1", {{"size", "2G"}}).ok());
  std::string image = f.config.state_dir + "/volumes/s1/disk.img";
  struct stat st {};
  REQUIRE(::stat(image.c_str(), &st) == 0);
  CHECK(st.st_size == (2ll << 30));
  CHECK(st.st_blocks * 512 < (1 << 20));  // sparse
  CHECK(f.log.Count("mkfs ") == 1);
  VolumeMeta meta = f.MetaOnDisk("s1");
  CHECK(meta.name == "s1");
  CHECK(meta.size_bytes == (2ull << 30));
  CHECK(meta.options == std::map<std::string, std::string>{{"size", "2G"}});
  CHECK(meta.created_at.size() == 20);  // 2026-11-30T08:49:43Z
  CHECK(f.PoolEntries() == std::vector<std::string>{"s1"});
  auto status = f.Status("s1");
  CHECK(status["size"] == "2GiB");
  CHECK(status["mounted"] == false);
  CHECK(status["mount_references"] == 0);
  CHECK(status.contains("pool_free_bytes"));
  REQUIRE(f.manager->List().size() == 1);
}

TEST_CASE("bad input to create changes nothing", "[manager]") {
  Fixture f;
  auto s = f.manager->Create("../x", {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        R"(invalid volume name "../x": must match [a-zA-Z0-9][a-zA-Z0-9_.-]+)");
  s = f.manager->Create("v1", {{"size", "abc"}});
  REQUIRE_FALSE(s.ok());
  s = f.manager->Create("v1", {{"bogus", "1"}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        R"(invalid option "bogus" (valid: exclusive, from, idmap, owner, size, snapshot))");
  CHECK(f.PoolEntries().empty());
  CHECK(f.log.calls.empty());
  CHECK_FALSE(f.manager->Get("v1").ok());
}

TEST_CASE("a create that fails at mkfs leaves nothing behind", "[manager]") {
  Fixture f;
  f.log.fail_once["mkfs"] = EIO;
  auto s = f.manager->Create("v1", {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message().rfind(R"(create volume "v1": format )", 0) == 0);
  CHECK(f.PoolEntries().empty());
  CHECK(f.manager->Get("v1").error().message() == R"(volume "v1" not found)");
  // And the name is free again.
  REQUIRE(f.manager->Create("v1", {}).ok());
}

TEST_CASE("create refuses when the pool is under POOL_CRITICAL", "[manager]") {
  Fixture f;
  f.config.pool_critical = 1ull << 50;
  f.config.pool_warning = 1ull << 50;
  f.Restart();
  auto s = f.manager->Create("v1", {});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kNoSpace);
  const std::string pool = f.config.state_dir + "/volumes";
  CHECK(s.error().message().rfind("create volume \"v1\": ", 0) == 0);
  CHECK(s.error().message().find(" free on the pool's filesystem " + pool +
                                 ", under POOL_CRITICAL (1PiB): creates are refused until space "
                                 "is freed there") != std::string::npos);
  CHECK(f.PoolEntries().empty());
  CHECK(f.log.calls.empty());
}

TEST_CASE("inspect shows the pool's space level against the watermarks", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  CHECK(f.Status("v1")["pool_space"] == "ok");
  REQUIRE(f.Status("v1")["pool_layers"].size() == 1);
  CHECK(f.Status("v1")["pool_layers"][0]["path"] == f.config.state_dir + "/volumes");
  CHECK(f.Status("v1")["pool_layers"][0]["free_bytes"] == f.Status("v1")["pool_free_bytes"]);
  f.config.pool_warning = 1ull << 50;
  f.Restart();
  CHECK(f.Status("v1")["pool_space"] == "warning");
  REQUIRE(f.manager->Create("v2", {}).ok());  // a warning refuses nothing
  f.config.pool_critical = 1ull << 50;
  f.Restart();
  CHECK(f.Status("v1")["pool_space"] == "critical");
  CHECK(f.manager->Create("v3", {}).error().kind() == ErrorKind::kNoSpace);
  REQUIRE(f.manager->Mount("v1", kId1).ok());  // what exists stays usable
}

TEST_CASE("create is idempotent for the same options only", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {{"size", "1G"}}).ok());
  CHECK(f.manager->Create("v1", {{"size", "1G"}}).ok());
  CHECK(f.log.Count("mkfs ") == 1);
  auto s = f.manager->Create("v1", {{"size", "2G"}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        R"(create volume "v1": volume "v1" already exists with other options; remove it first)");
}

TEST_CASE("mount hands out data/ and counts references per mount ID", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  auto path = f.manager->Mount("v1", kId1);
  REQUIRE(path.ok());
  CHECK(*path == f.config.mount_root + "/v1/data");
  CHECK(f.log.Count("mount /dev/loop0 " + f.config.mount_root +
                    "/v1 ext4 noatime,errors=remount-ro,discard,data_err=abort") == 1);
  // docker cp on a running container mounts again with the same ID.
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  CHECK(f.log.Count("attach ") == 1);
  CHECK(f.Status("v1")["mount_references"] == 2);
  CHECK(f.Status("v1")["loop_device"] == "/dev/loop0");
  CHECK(*f.manager->Path("v1") == *path);
  CHECK(f.MetaOnDisk("v1").mount_refs == std::map<std::string, int>{{kId1, 2}});
  REQUIRE(f.manager->Unmount("v1", kId1).ok());
  CHECK(f.log.Count("unmount ") == 0);
  REQUIRE(f.manager->Unmount("v1", kId1).ok());
  CHECK(f.log.Count("unmount ") == 1);
  CHECK(f.loops.BoundCount() == 0);
  CHECK(*f.manager->Path("v1") == "");
  CHECK(f.MetaOnDisk("v1").mount_refs.empty());
}

TEST_CASE("a data root is exclusive to one mount ID by default", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  auto second = f.manager->Mount("v1", kId2);
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().kind() == ErrorKind::kBusy);
  CHECK(second.error().message() ==
        R"(mount volume "v1": in use by another container (mount ID 111111111111); a data root )"
        "is exclusive because two Docker engines on one data root corrupt it (create the volume "
        "with -o exclusive=false to share it)");
  CHECK(f.Status("v1")["mount_references"] == 1);
}

TEST_CASE("exclusive=false lets two mount IDs share one mount", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {{"exclusive", "false"}}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  REQUIRE(f.manager->Mount("v1", kId2).ok());
  CHECK(f.log.Count("mount ") == 1);
  REQUIRE(f.manager->Unmount("v1", kId1).ok());
  CHECK(f.mounter.MountCount() == 1);
  REQUIRE(f.manager->Unmount("v1", kId2).ok());
  CHECK(f.mounter.MountCount() == 0);
}

TEST_CASE("a failed mount does not keep its reference", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  f.log.fail_once["mount"] = EIO;
  auto r = f.manager->Mount("v1", kId1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == R"(mount volume "v1": mount /dev/loop0 on )" + f.config.mount_root +
                                   "/v1: Input/output error");
  CHECK(f.Status("v1")["mount_references"] == 0);
  CHECK(f.MetaOnDisk("v1").mount_refs.empty());
  // Another container may have it now.
  CHECK(f.manager->Mount("v1", kId2).ok());
}

TEST_CASE("unmount drops the reference even when the unmount fails", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  f.log.fail_once["unmount"] = EBUSY;
  auto s = f.manager->Unmount("v1", kId1);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        R"(unmount volume "v1": unmount )" + f.config.mount_root + "/v1: Device or resource busy");
  CHECK(f.Status("v1")["mount_references"] == 0);
  CHECK(f.MetaOnDisk("v1").mount_refs.empty());
  // The volume is not locked: the next container gets the mount still there.
  REQUIRE(f.manager->Mount("v1", kId2).ok());
  CHECK(f.log.Count("mount ") == 1);
  REQUIRE(f.manager->Unmount("v1", kId2).ok());
  CHECK(f.mounter.MountCount() == 0);
}

TEST_CASE("unknown volumes and mount IDs get clear errors", "[manager]") {
  Fixture f;
  CHECK(f.manager->Mount("nope", kId1).error().message() ==
        R"(mount volume "nope": volume "nope" not found)");
  CHECK(f.manager->Mount("nope", kId1).error().kind() == ErrorKind::kNotFound);
  CHECK(f.manager->Get("nope").error().message() == R"(volume "nope" not found)");
  CHECK(f.manager->Path("nope").error().message() == R"(volume "nope" not found)");
  CHECK(f.manager->Remove("nope").error().message() ==
        R"(remove volume "nope": volume "nope" not found)");
  REQUIRE(f.manager->Create("v1", {}).ok());
  CHECK(f.manager->Unmount("v1", "abc").error().message() ==
        R"(unmount volume "v1": no mount with ID "abc")");
  CHECK(f.manager->Mount("v1", "").error().message() == R"(mount volume "v1": missing mount ID)");
}

TEST_CASE("remove refuses a mounted volume and deletes an unmounted one", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  auto s = f.manager->Remove("v1");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kBusy);
  CHECK(s.error().message() ==
        R"(remove volume "v1": volume is in use by 1 container mount(s); stop the containers )"
        "that use it first");
  REQUIRE(f.manager->Unmount("v1", kId1).ok());
  REQUIRE(f.manager->Remove("v1").ok());
  CHECK(f.PoolEntries().empty());
  CHECK(f.manager->List().empty());
}

TEST_CASE("a mount that outlives MOUNT_TIMEOUT is rolled back", "[manager]") {
  Fixture f;
  f.config.mount_timeout = std::chrono::milliseconds(-1);  // every mount is too slow
  f.Restart();
  REQUIRE(f.manager->Create("v1", {}).ok());
  auto r = f.manager->Mount("v1", kId1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kTimeout);
  CHECK(r.error().message().find("longer than dockerd waits (MOUNT_TIMEOUT); rolled back") !=
        std::string::npos);
  CHECK(f.Status("v1")["mount_references"] == 0);
  CHECK(f.mounter.MountCount() == 0);
}

TEST_CASE("release drops orphaned references and unmounts", "[manager]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  CHECK(f.manager->Release("v1", "other").error().message() ==
        R"(release volume "v1": no mount with ID "other")");
  auto dropped = f.manager->Release("v1", "");
  REQUIRE(dropped.ok());
  CHECK(*dropped == std::vector<std::string>{kId1});
  CHECK(f.mounter.MountCount() == 0);
  CHECK(f.manager->Mount("v1", kId2).ok());
}

TEST_CASE("recovery restores mounted volumes and their references", "[manager][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Create("v2", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  f.Restart();  // kill -9: the kernel keeps the mount
  CHECK(f.manager->List().size() == 2);
  auto status = f.Status("v1");
  CHECK(status["mounted"] == true);
  CHECK(status["mount_references"] == 1);
  CHECK(status["loop_device"] == "/dev/loop0");
  CHECK(f.manager->Mount("v1", kId2).error().kind() == ErrorKind::kBusy);
  REQUIRE(f.manager->Unmount("v1", kId1).ok());
  CHECK(f.mounter.MountCount() == 0);
}

TEST_CASE("recovery drops references that nothing backs", "[manager][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  REQUIRE(f.mounter.Unmount(f.config.mount_root + "/v1").ok());  // e.g. a reboot
  f.Restart();
  CHECK(f.Status("v1")["mount_references"] == 0);
  CHECK(f.MetaOnDisk("v1").mount_refs.empty());
  CHECK(f.manager->Mount("v1", kId2).ok());
}

TEST_CASE("recovery keeps references held through a live loop device", "[manager][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  // disable -f: our mount is gone, the container's copy keeps the loop alive.
  REQUIRE(f.mounter.Unmount(f.config.mount_root + "/v1").ok());
  f.loops.Bind("/dev/loop0", *IdOf(f.config.state_dir + "/volumes/v1/disk.img"));
  f.Restart();
  CHECK(f.Status("v1")["mount_references"] == 1);
  CHECK(f.Status("v1")["mounted"] == false);
  // The same container mounting again (docker cp) reuses the loop device.
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  CHECK(f.log.Count("attach ") == 1);
  CHECK(f.log.Count("mount /dev/loop0 ") == 2);
  CHECK(f.manager->Mount("v1", kId2).error().kind() == ErrorKind::kBusy);
}

TEST_CASE("recovery cleans leftovers: temp dirs, orphan mounts, orphan loops",
          "[manager][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Create("v2", {}).ok());
  REQUIRE(MakeDirs(f.config.state_dir + "/volumes/.tmp-0123456789abcdef/x").ok());
  REQUIRE(AtomicWriteFile(f.config.state_dir + "/volumes/v1/.meta.json.tmp-0a1b2c", "{").ok());
  // v1 mounted by a Mount that never saved its reference; v2 attached only.
  f.loops.Bind("/dev/loop7", *IdOf(f.config.state_dir + "/volumes/v1/disk.img"));
  REQUIRE(f.mounter.Mount("/dev/loop7", f.config.mount_root + "/v1", "ext4", "rw").ok());
  f.loops.Bind("/dev/loop8", *IdOf(f.config.state_dir + "/volumes/v2/disk.img"));
  f.Restart();
  CHECK(f.PoolEntries().size() == 2);
  CHECK(*ListDir(f.config.state_dir + "/volumes/v1") ==
        std::vector<std::string>{"disk.img", "meta.json"});
  CHECK(f.mounter.MountCount() == 0);
  CHECK(f.log.Count("detach /dev/loop8") == 1);
  CHECK(f.Status("v1")["mounted"] == false);
}

TEST_CASE("recovery and mount leave alone what someone else mounted at a mount point",
          "[manager][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  const std::string target = f.config.mount_root + "/v1";
  // A tmpfs, and a mount of a loop device bound to another file.
  f.mounter.Add({"tmpfs", target, "tmpfs", "rw", makedev(0, 99), "rw"});
  f.loops.Bind("/dev/loop9", FileId{makedev(8, 1), 12345});
  REQUIRE(f.mounter.Mount("/dev/loop9", target, "ext4", "rw").ok());
  f.Restart();
  CHECK(f.log.Count("unmount ") == 0);
  CHECK(f.mounter.MountCount() == 2);
  CHECK(f.Status("v1")["mounted"] == false);
  auto r = f.manager->Mount("v1", kId1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kBusy);
  CHECK(r.error().message() ==
        "mount volume \"v1\": " + target +
            " already has ext4 from /dev/loop9 mounted on it, which helixvol "
            "did not mount; unmount it first");
  CHECK(f.log.Count("attach ") == 0);
  CHECK(f.Status("v1")["mount_references"] == 0);
}

TEST_CASE("unmount never takes off a mount someone put on top of the volume",
          "[manager][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("v1", {}).ok());
  REQUIRE(f.manager->Mount("v1", kId1).ok());
  const std::string target = f.config.mount_root + "/v1";
  f.mounter.Add({"tmpfs", target, "tmpfs", "rw", makedev(0, 99), "rw"});
  auto s = f.manager->Unmount("v1", kId1);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "unmount volume \"v1\": " + target +
                                   " has tmpfs from tmpfs mounted on top of the volume, which "
                                   "helixvol did not mount; unmount it first");
  CHECK(f.log.Count("unmount ") == 0);
  CHECK(f.mounter.MountCount() == 2);
  CHECK(f.Status("v1")["mount_references"] == 0);  // dropped all the same
}

TEST_CASE("get and list do not wait behind a slow create", "[manager][concurrency]") {
  Fixture f;
  REQUIRE(f.manager->Create("fast", {}).ok());
  // A formatter that blocks until the test lets it go.
  struct Blocking : Formatter {
    std::promise<void> entered, release;
    Status MakeExt4(const std::string&) override {
      entered.set_value();
      release.get_future().wait();
      return Ok();
    }
  } blocking;
  VolumeManager m(f.config, {f.loops, f.mounter, blocking, f.sys.cloner, f.sys.freezer, f.sys.ext4,
                             f.sys.files});
  REQUIRE(m.Recover().ok());
  auto slow = std::async(std::launch::async, [&] { return m.Create("slow", {}); });
  blocking.entered.get_future().wait();
  CHECK(m.Get("fast").ok());
  CHECK(m.List().size() == 1);  // the half-made volume is not visible
  CHECK(m.Get("slow").error().kind() == ErrorKind::kNotFound);
  blocking.release.set_value();
  REQUIRE(slow.get().ok());
  CHECK(m.List().size() == 2);
}
