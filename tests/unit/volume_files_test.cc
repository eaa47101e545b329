// The file steps that crash safety rests on, each made to fail through the
// fake file system: a create, clone or remove that fails at any of them
// leaves nothing half-made and says which step failed.
#include <catch2/catch.hpp>
#include <regex>

#include "common/file_util.h"
#include "fakes/fake_system.h"
#include "fakes/temp_dir.h"
#include "volume-plugin/domain/volume_manager.h"

using namespace helix;
using namespace helix::vol;
using helix::testing::TempDir;
using helix::vol::testing::FakeFileSystem;
using helix::vol::testing::FakeSystem;

namespace {

struct Fixture {
  TempDir dir;
  FakeSystem sys;
  FakeFileSystem& fs = sys.files;
  ManagerConfig config;
  std::unique_ptr<VolumeManager> manager;
  std::string pool;

  Fixture() {
    config.state_dir = dir / "state";
    config.mount_root = dir / "mnt";
    config.pool_critical = 0;
    config.pool_warning = 0;
    pool = config.state_dir + "/volumes";
    Restart();
  }
  void Restart() {
    manager = std::make_unique<VolumeManager>(config, sys.Ops());
    REQUIRE(manager->Recover().ok());
  }
  std::vector<std::string> PoolEntries() { return *ListDir(pool); }
  std::vector<std::string> Names() {
    std::vector<std::string> names;
    for (const auto& v : manager->List()) names.push_back(v.name);
    return names;
  }
};

// The message with every random temporary name (".tmp-3fa9...") as ".tmp-*".
std::string Shown(const Error& e) {
  static const std::regex kRandom(R"(\.tmp-(rm-)?[0-9a-f]{12,16})");
  return std::regex_replace(e.message(), kRandom, ".tmp-$1*");
}

// A create that failed: the error is `expected`, and nothing is left in the
// pool, in the registry, or after a restart; the name can be used again.
void CheckCreateFailedCleanly(Fixture& f, const Status& s, const std::string& expected) {
  REQUIRE_FALSE(s.ok());
  CHECK(Shown(s.error()) == expected);
  CHECK(f.PoolEntries().empty());
  CHECK(f.Names().empty());
  CHECK(f.manager->Get("s1").error().kind() == ErrorKind::kNotFound);
  f.Restart();
  CHECK(f.Names().empty());
  REQUIRE(f.manager->Create("s1", {}).ok());
}

}  // namespace

// Each step of a create, failed in turn: {pool} stands for the pool.
struct CreateStep {
  const char* name;
  const char* step;
  int err;
  int nth;  // which call of the step fails
  const char* expected;
};
const CreateStep kCreateSteps[] = {
    {"staging directory", "mkdir", ENOSPC, 1,
     R"(create volume "s1": create {pool}/.tmp-*: No space left on device)"},
    {"image", "create", ENOSPC, 1,
     R"(create volume "s1": create {pool}/.tmp-*/disk.img: No space left on device)"},
    {"meta.json write", "write", ENOSPC, 1,
     R"(create volume "s1": write {pool}/.tmp-*/meta.json: No space left on device)"},
    // The image's fsync is the first.
    {"meta.json fsync", "fsync", EIO, 2,
     R"(create volume "s1": fsync {pool}/.tmp-*/meta.json: Input/output error)"},
    {"meta.json rename", "rename", ENOSPC, 1,
     R"(create volume "s1": rename {pool}/.tmp-*/.meta.json.tmp-* to {pool}/.tmp-*/meta.json: )"
     "No space left on device"},
    {"rename into place", "rename", ENOSPC, 2,
     R"(create volume "s1": rename {pool}/.tmp-* to {pool}/s1: No space left on device)"},
    {"meta.json directory fsync", "syncdir", EIO, 1,
     R"(create volume "s1": fsync {pool}/.tmp-*: Input/output error)"},
    // After the rename into place: the volume is taken back.
    {"pool directory fsync", "syncdir", EIO, 2,
     R"(create volume "s1": fsync {pool}: Input/output error)"},
};

TEST_CASE("a create that fails at any file step leaves nothing and names the step",
          "[manager][files]") {
  for (const CreateStep& c : kCreateSteps) {
    DYNAMIC_SECTION(c.name) {
      Fixture f;
      f.fs.FailOnce(c.step, c.err, c.nth);
      std::string expected = std::regex_replace(c.expected, std::regex(R"(\{pool\})"), f.pool);
      CheckCreateFailedCleanly(f, f.manager->Create("s1", {}), expected);
    }
  }
}

TEST_CASE("a clone that fails at a file step leaves its source whole", "[manager][files]") {
  Fixture f;
  REQUIRE(f.manager->Create("gold", {}).ok());
  f.fs.FailOnce("rename", ENOSPC, 2);
  auto s = f.manager->Create("s1", {{"from", "gold"}});
  REQUIRE_FALSE(s.ok());
  CHECK(Shown(s.error()) == R"(create volume "s1": rename )" + f.pool + "/.tmp-* to " + f.pool +
                                "/s1: No space left on device");
  CHECK(f.PoolEntries() == std::vector<std::string>{"gold"});
  CHECK(*ListDir(f.pool + "/gold") == std::vector<std::string>{"disk.img", "meta.json"});
  CHECK(f.Names() == std::vector<std::string>{"gold"});
  REQUIRE(f.manager->Mount("gold", "id1").ok());
}

TEST_CASE("a remove whose rename fails keeps the volume whole", "[manager][files]") {
  Fixture f;
  REQUIRE(f.manager->Create("s1", {}).ok());
  f.fs.FailOnce("rename", ENOSPC);
  auto s = f.manager->Remove("s1");
  REQUIRE_FALSE(s.ok());
  CHECK(Shown(s.error()) == R"(remove volume "s1": rename )" + f.pool + "/s1 to " + f.pool +
                                "/.tmp-rm-*: No space left on device");
  CHECK(f.PoolEntries() == std::vector<std::string>{"s1"});
  CHECK(*ListDir(f.pool + "/s1") == std::vector<std::string>{"disk.img", "meta.json"});
  CHECK(f.Names() == std::vector<std::string>{"s1"});
  REQUIRE(f.manager->Remove("s1").ok());
  CHECK(f.PoolEntries().empty());
}

TEST_CASE("a remove whose deletion fails is finished at the next start", "[manager][files]") {
  Fixture f;
  REQUIRE(f.manager->Create("s1", {}).ok());
  f.fs.FailOnce("remove", EIO);
  f.fs.FailOnce("syncdir", EIO);
  // Renamed out of the way, the volume is gone whatever the deletion does.
  REQUIRE(f.manager->Remove("s1").ok());
  CHECK(f.Names().empty());
  auto left = f.PoolEntries();
  REQUIRE(left.size() == 1);
  CHECK(left[0].rfind(".tmp-rm-", 0) == 0);
  f.Restart();
  CHECK(f.PoolEntries().empty());
  CHECK(f.Names().empty());
}

TEST_CASE("a mount whose reference cannot be saved is rolled back", "[manager][files]") {
  Fixture f;
  REQUIRE(f.manager->Create("s1", {}).ok());
  f.fs.FailOnce("rename", ENOSPC);
  auto m = f.manager->Mount("s1", "id1");
  REQUIRE_FALSE(m.ok());
  CHECK(Shown(m.error()) == R"(mount volume "s1": rename )" + f.pool + "/s1/.meta.json.tmp-* to " +
                                f.pool + "/s1/meta.json: No space left on device");
  CHECK(f.sys.mounter.MountCount() == 0);
  CHECK(f.manager->Get("s1")->status["mount_references"] == 0);
  CHECK(*ListDir(f.pool + "/s1") == std::vector<std::string>{"disk.img", "meta.json"});
}

TEST_CASE("an unmount whose meta.json write fails still drops the reference", "[manager][files]") {
  Fixture f;
  REQUIRE(f.manager->Create("s1", {}).ok());
  REQUIRE(f.manager->Mount("s1", "id1").ok());
  f.fs.FailOnce("write", ENOSPC);
  auto s = f.manager->Unmount("s1", "id1");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() ==
        R"(unmount volume "s1": write )" + f.pool + "/s1/meta.json: No space left on device");
  auto status = f.manager->Get("s1")->status;
  CHECK(status["mount_references"] == 0);
  CHECK(status["mounted"] == false);
  CHECK(status["error"] == "meta.json could not be updated (write " + f.pool +
                               "/s1/meta.json: No space left on device); what Status shows is in "
                               "memory only until a later write succeeds");
  // The next mount saves again, and clears the warning.
  REQUIRE(f.manager->Mount("s1", "id2").ok());
  CHECK_FALSE(f.manager->Get("s1")->status.contains("error"));
}

TEST_CASE("the file steps of a create, in order", "[manager][files]") {
  Fixture f;
  f.fs.ClearCalls();
  REQUIRE(f.manager->Create("s1", {}).ok());
  std::vector<std::string> steps;
  for (const auto& c : f.fs.Calls()) steps.push_back(c.substr(0, c.find(' ')));
  // Staging directory, image, meta.json (write, fsync, rename, fsync its
  // directory), then the rename into place and the pool's fsync.
  CHECK(steps == std::vector<std::string>{"mkdir", "create", "fsync", "write", "fsync", "rename",
                                          "syncdir", "rename", "syncdir"});
}

TEST_CASE("a mount gives data/ to the volume's owner, and fails cleanly when it cannot",
          "[manager][files]") {
  Fixture f;
  REQUIRE(f.manager->Create("u1", {{"owner", "100000:100001"}}).ok());
  auto mp = f.manager->Mount("u1", "a");
  REQUIRE(mp.ok());
  CHECK(f.fs.OwnerOf(*mp) == "100000:100001");
  REQUIRE(f.manager->Unmount("u1", "a").ok());

  f.fs.FailOnce("chown", EPERM);
  auto failed = f.manager->Mount("u1", "b");
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message() ==
        "mount volume \"u1\": chown " + *mp + " to 100000:100001: Operation not permitted");
  auto view = f.manager->Get("u1");
  REQUIRE(view.ok());
  CHECK(view->status["mounted"] == false);
  CHECK(view->status["mount_references"] == 0);

  REQUIRE(f.manager->Create("r1", {}).ok());
  auto plain = f.manager->Mount("r1", "c");
  REQUIRE(plain.ok());
  CHECK(f.fs.OwnerOf(*plain).empty());  // no owner: data/ stays as made
}
