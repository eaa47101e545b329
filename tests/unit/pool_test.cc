// PreparePool's decisions that need no kernel objects: the mode check, copy
// mode, and refusing to hide an existing self-managed pool.
#include "volume-plugin/pool.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "fakes/temp_dir.h"

namespace helix::vol {
namespace {

// Records every call and fails it: these paths must not touch the kernel.
class NoKernel : public LoopDevices, public Mounter {
 public:
  Result<AttachedLoop> Attach(const std::string& image, bool) override {
    return Refuse("attach " + image);
  }
  Result<std::optional<std::string>> FindByBacking(FileId) override {
    return Refuse("find by backing");
  }
  Status Detach(const std::string& device) override { return Refuse("detach " + device); }
  Status Mount(const std::string& source, const std::string& target, const std::string&,
               const std::string&) override {
    return Refuse("mount " + source + " on " + target);
  }
  Status Unmount(const std::string& target) override { return Refuse("unmount " + target); }
  Result<std::vector<MountEntry>> List() override { return Refuse("list"); }

  std::vector<std::string> calls;

 private:
  Error Refuse(const std::string& call) {
    calls.push_back(call);
    return Error(ErrorKind::kSystem, "unexpected " + call);
  }
};

PoolConfig Config(const std::string& state, const std::string& mode) {
  PoolConfig config;
  config.state_dir = state;
  config.mode = mode;
  return config;
}

TEST_CASE("CloneMethodName names both methods as inspect shows them") {
  CHECK(CloneMethodName(CloneMethod::kReflink) == "reflink");
  CHECK(CloneMethodName(CloneMethod::kCopy) == "copy");
}

TEST_CASE("PreparePool refuses an unknown mode before making anything") {
  helix::testing::TempDir dir;
  NoKernel kernel;
  std::string state = dir / "state";
  auto info = PreparePool(Config(state, "fast"), kernel, kernel);
  REQUIRE_FALSE(info.ok());
  CHECK(info.error().kind() == ErrorKind::kInvalidArgument);
  CHECK(info.error().message() == "setting POOL=\"fast\": must be one of auto, reflink, copy");
  CHECK(::access(state.c_str(), F_OK) != 0);
  CHECK(kernel.calls.empty());
}

TEST_CASE("PreparePool in copy mode makes <state>/volumes with the symlinks resolved") {
  helix::testing::TempDir dir;
  REQUIRE(MakeDirs(dir / "real").ok());
  REQUIRE(::symlink((dir / "real").c_str(), (dir / "link").c_str()) == 0);
  NoKernel kernel;
  auto info = PreparePool(Config(dir / "link", "copy"), kernel, kernel);
  INFO((info.ok() ? "" : info.error().message()));
  REQUIRE(info.ok());
  // Mount points are compared with mountinfo, which shows real paths.
  CHECK(info->volumes_dir == dir / "real/volumes");
  CHECK(info->method == CloneMethod::kCopy);
  CHECK_FALSE(info->self_managed);
  CHECK(::access(info->volumes_dir.c_str(), F_OK) == 0);
  CHECK(kernel.calls.empty());
}

TEST_CASE("PreparePool in copy or reflink mode refuses to hide an existing self-managed pool") {
  helix::testing::TempDir dir;
  REQUIRE(AtomicWriteFile(dir / "pool.img", "").ok());
  NoKernel kernel;
  for (const char* mode : {"copy", "reflink"}) {
    auto info = PreparePool(Config(dir.path(), mode), kernel, kernel);
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().kind() == ErrorKind::kInvalidArgument);
    CHECK(info.error().message() == std::string("setting POOL=") + mode + ": " +
                                        (dir / "pool.img") +
                                        " holds a self-managed pool whose volumes this mode "
                                        "would not see; use POOL=auto");
  }
  CHECK(kernel.calls.empty());
}

}  // namespace
}  // namespace helix::vol
