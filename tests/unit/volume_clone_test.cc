// Clones, snapshots and DEFAULT_FROM, on fakes: what is asked of the kernel,
// in which order, and what is left when a step fails.
#include <catch2/catch.hpp>
#include <thread>

#include "common/file_util.h"
#include "fakes/fake_system.h"
#include "fakes/temp_dir.h"
#include "volume-plugin/domain/volume_manager.h"

using namespace helix;
using namespace helix::vol;
using helix::testing::TempDir;
using helix::vol::testing::FakeSystem;

namespace {

const std::string kAnonymous(64, 'e');

struct Fixture {
  TempDir dir;
  FakeSystem sys;
  ManagerConfig config;
  std::unique_ptr<VolumeManager> manager;

  explicit Fixture(std::string default_from = "") {
    config.state_dir = dir / "state";
    config.mount_root = dir / "mnt";
    config.pool_critical = 0;
    config.pool_warning = 0;
    config.default_from = std::move(default_from);
    Restart();
  }
  void Restart() {
    manager = std::make_unique<VolumeManager>(config, sys.Ops());
    manager->UsePool({config.state_dir + "/volumes", CloneMethod::kReflink, false, ""});
    REQUIRE(manager->Recover().ok());
  }
  nlohmann::json Status(const std::string& name) { return manager->Get(name)->status; }
  std::vector<std::string> PoolEntries() { return *ListDir(config.state_dir + "/volumes"); }
  std::string Image(const std::string& name) {
    return config.state_dir + "/volumes/" + name + "/disk.img";
  }
};

std::string ErrorOf(const Status& s) {
  REQUIRE_FALSE(s.ok());
  return s.error().message();
}

}  // namespace

TEST_CASE("a clone is a reflink of its source with a new UUID", "[clone]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {{"size", "1G"}}).ok());
  REQUIRE(f.manager->Create("s1", {{"from", "gold"}}).ok());
  CHECK(f.sys.log.Count("clone reflink " + f.Image("gold") + " ") == 1);
  CHECK(f.sys.log.Count("uuid ") == 1);
  CHECK(f.sys.log.Count("mkfs ") == 1);  // only gold was formatted
  auto status = f.Status("s1");
  CHECK(status["size"] == "1GiB");  // a clone without size takes its source's
  CHECK(status["clone_source"] == "gold");
  CHECK(status["clone_method"] == "reflink");
  CHECK(status["shared_bytes"] == 4096);
  CHECK(f.sys.log.Count("freeze ") == 0);  // the source was not mounted
}

TEST_CASE("a clone may be larger than its source and is grown online", "[clone]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {{"size", "1G"}}).ok());
  REQUIRE(f.manager->Create("big", {{"from", "gold"}, {"size", "3G"}}).ok());
  CHECK(f.Status("big")["size"] == "3GiB");
  CHECK(f.sys.log.Count("grow ") == 1);
  CHECK(f.sys.mounter.MountCount() == 0);  // the temporary mount is gone
  CHECK(f.sys.loops.BoundCount() == 0);
}

TEST_CASE("a clone smaller than its source is refused, nothing made", "[clone]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {{"size", "1G"}}).ok());
  CHECK(ErrorOf(f.manager->Create("small", {{"from", "gold"}, {"size", "512M"}})) ==
        R"(create volume "small": invalid option size="512M": smaller than the source volume )"
        R"("gold" (1GiB))");
  CHECK(f.PoolEntries() == std::vector<std::string>{"gold"});
}

TEST_CASE("cloning an unknown volume is a clear error, nothing made", "[clone]") {
  Fixture f;
  CHECK(ErrorOf(f.manager->Create("s1", {{"from", "nope"}})) ==
        R"(create volume "s1": clone source "nope" not found)");
  CHECK(ErrorOf(f.manager->Create("s1", {{"from", "../x"}})) ==
        R"(invalid option from="../x": invalid volume name "../x": must match )"
        "[a-zA-Z0-9][a-zA-Z0-9_.-]+");
  CHECK(f.PoolEntries().empty());
}

TEST_CASE("a mounted source is frozen for the clone and thawed after", "[clone]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {}).ok());
  REQUIRE(f.manager->Mount("gold", "id1").ok());
  f.sys.log.calls.clear();
  REQUIRE(f.manager->Create("s1", {{"from", "gold"}}).ok());
  const std::string target = f.config.mount_root + "/gold";
  REQUIRE(f.sys.log.calls.size() >= 3);
  CHECK(f.sys.log.calls[0] == "freeze " + target);
  CHECK(f.sys.log.calls[1].rfind("clone reflink ", 0) == 0);
  CHECK(f.sys.log.calls[2] == "thaw " + target);
}

TEST_CASE("a clone that fails leaves nothing and thaws its source", "[clone]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {}).ok());
  REQUIRE(f.manager->Mount("gold", "id1").ok());
  f.sys.log.fail_once["clone"] = EIO;
  REQUIRE_FALSE(f.manager->Create("s1", {{"from", "gold"}}).ok());
  CHECK(f.sys.log.Count("thaw ") == 1);
  CHECK(f.PoolEntries() == std::vector<std::string>{"gold"});
  f.sys.log.fail_once["freeze"] = EBUSY;
  CHECK(ErrorOf(f.manager->Create("s1", {{"from", "gold"}})).find("freeze") != std::string::npos);
  CHECK(f.PoolEntries() == std::vector<std::string>{"gold"});
}

TEST_CASE("a freeze longer than FREEZE_TIMEOUT is thawed and the clone abandoned", "[clone]") {
  Fixture f;
  f.config.freeze_timeout = std::chrono::milliseconds(20);
  struct SlowCloner : vol::testing::FakeCloner {
    using FakeCloner::FakeCloner;
    Status Clone(const std::string& s, const std::string& d, CloneMethod m) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return FakeCloner::Clone(s, d, m);
    }
  } slow(f.sys.log);
  VolumeManager m(f.config, {f.sys.loops, f.sys.mounter, f.sys.formatter, slow, f.sys.freezer,
                             f.sys.ext4, f.sys.files});
  m.UsePool({f.config.state_dir + "/volumes", CloneMethod::kReflink, false, ""});
  REQUIRE(m.Recover().ok());
  REQUIRE(m.Create("gold", {}).ok());
  REQUIRE(m.Mount("gold", "id1").ok());
  auto s = m.Create("s1", {{"from", "gold"}});
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kTimeout);
  CHECK(s.error().message() ==
        R"(create volume "s1": source "gold" stayed frozen longer than FREEZE_TIMEOUT (20ms); )"
        "thawed it and abandoned the clone");
  CHECK(f.sys.log.Count("thaw ") == 1);
  CHECK(*ListDir(f.config.state_dir + "/volumes") == std::vector<std::string>{"gold"});
}

TEST_CASE("snapshots mount read-only and can be shared", "[clone][snapshot]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {}).ok());
  CHECK(ErrorOf(f.manager->Create("snap", {{"snapshot", "true"}})) ==
        R"(invalid option snapshot="true": needs from=<volume> to snapshot)");
  REQUIRE(f.manager->Create("snap", {{"from", "gold"}, {"snapshot", "true"}}).ok());
  CHECK(f.Status("snap")["snapshot"] == true);
  REQUIRE(f.manager->Mount("snap", "id1").ok());
  REQUIRE(f.manager->Mount("snap", "id2").ok());
  CHECK(f.sys.log.Count("attach " + f.Image("snap") + " ro") == 1);
  CHECK(f.sys.log.Count("mount /dev/loop0 " + f.config.mount_root + "/snap ext4 ro,noatime") == 1);
  // A clone of a snapshot needs no freeze, and may outlive it.
  REQUIRE(f.manager->Create("s1", {{"from", "snap"}}).ok());
  CHECK(f.sys.log.Count("freeze ") == 0);
  REQUIRE(f.manager->Unmount("snap", "id1").ok());
  REQUIRE(f.manager->Unmount("snap", "id2").ok());
  REQUIRE(f.manager->Remove("snap").ok());
  CHECK(f.manager->Get("s1").ok());
}

TEST_CASE("a snapshot of a fragmented source is copied, not reflinked", "[clone][snapshot]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {}).ok());
  f.sys.cloner.extents = 100000;
  REQUIRE(f.manager->Create("snap", {{"from", "gold"}, {"snapshot", "true"}}).ok());
  CHECK(f.Status("snap")["clone_method"] == "copy");
  REQUIRE(f.manager->Create("s1", {{"from", "gold"}}).ok());
  CHECK(f.Status("s1")["clone_method"] == "reflink");
}

TEST_CASE("DEFAULT_FROM clones named volumes but not anonymous ones", "[clone][default_from]") {
  Fixture f("gold");
  CHECK(ErrorOf(f.manager->Create("early", {})) ==
        R"(create volume "early": clone source "gold" not found)");
  REQUIRE(f.manager->Create("gold", {{"size", "1G"}}).ok());  // not a clone of itself
  REQUIRE(f.manager->Create("s1", {}).ok());
  CHECK(f.Status("s1")["clone_source"] == "gold");
  REQUIRE(f.manager->Create(kAnonymous, {}).ok());
  CHECK_FALSE(f.Status(kAnonymous).contains("clone_source"));
  REQUIRE(f.manager->Create("plain", {{"from", ""}}).ok());
  CHECK_FALSE(f.Status("plain").contains("clone_source"));
  CHECK(f.Status("plain")["size"] == "20GiB");
}

TEST_CASE("recovery thaws every mounted volume", "[clone][recovery]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {}).ok());
  REQUIRE(f.manager->Mount("gold", "id1").ok());
  f.sys.log.calls.clear();
  f.Restart();
  CHECK(f.sys.log.Count("thaw " + f.config.mount_root + "/gold") == 1);
}

TEST_CASE("anonymous volume names are exactly 64 lowercase hex digits", "[clone][default_from]") {
  CHECK(IsAnonymousName(std::string(64, 'a')));
  CHECK_FALSE(IsAnonymousName(std::string(63, 'a')));
  CHECK_FALSE(IsAnonymousName(std::string(64, 'A')));
  CHECK_FALSE(IsAnonymousName("s1"));
}
