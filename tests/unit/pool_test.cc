// PreparePool's decisions that need no kernel objects: the mode check, copy
// mode, and refusing to hide an existing self-managed pool.
#include "volume-plugin/system/pool.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "fakes/temp_dir.h"

namespace helix::vol {
namespace {

// Records every call and fails it: these paths must not touch the kernel.
struct NoKernel {
  std::vector<std::string> calls;
  Error Refuse(const std::string& call) {
    calls.push_back(call);
    return Error(ErrorKind::kSystem, "unexpected " + call);
  }
};

class NoLoops : public LoopDevices {
 public:
  explicit NoLoops(NoKernel& k) : k_(k) {}
  Result<AttachedLoop> Attach(const std::string& image, bool) override {
    return k_.Refuse("attach " + image);
  }
  Result<std::vector<LoopBinding>> List() override { return k_.Refuse("list loops"); }
  Status Detach(const std::string& device) override { return k_.Refuse("detach " + device); }

 private:
  NoKernel& k_;
};

class NoMounts : public Mounter {
 public:
  explicit NoMounts(NoKernel& k) : k_(k) {}
  Status Mount(const std::string& source, const std::string& target, const std::string&,
               const std::string&) override {
    return k_.Refuse("mount " + source + " on " + target);
  }
  Status Unmount(const std::string& target) override { return k_.Refuse("unmount " + target); }
  Status IdmapBind(const std::string& path, const std::string&) override {
    return k_.Refuse("idmap " + path);
  }
  Result<std::vector<MountEntry>> List() override { return k_.Refuse("list"); }

 private:
  NoKernel& k_;
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
  NoLoops loops(kernel);
  NoMounts mounts(kernel);
  std::string state = dir / "state";
  auto info = PreparePool(Config(state, "fast"), loops, mounts);
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
  NoLoops loops(kernel);
  NoMounts mounts(kernel);
  auto info = PreparePool(Config(dir / "link", "copy"), loops, mounts);
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
  NoLoops loops(kernel);
  NoMounts mounts(kernel);
  for (const char* mode : {"copy", "reflink"}) {
    auto info = PreparePool(Config(dir.path(), mode), loops, mounts);
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
