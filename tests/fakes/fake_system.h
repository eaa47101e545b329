// Fakes of the system layer for unit tests of VolumeManager. Each records
// what it was asked in a shared call log, keeps just enough state to answer
// like the kernel would (a loop device disappears when its last mount goes:
// autoclear), and can be told to fail at one named step.
#pragma once

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "volume-plugin/system.h"

namespace helix::vol::testing {

struct CallLog {
  std::mutex mu;
  std::vector<std::string> calls;
  // Step name ("attach", "mount", "unmount", "mkfs", "detach") -> errno to
  // fail it with, once.
  std::map<std::string, int> fail_once;

  void Record(const std::string& call) {
    std::lock_guard lock(mu);
    calls.push_back(call);
  }
  // Returns the errno to fail `step` with, or 0.
  int ShouldFail(const std::string& step) {
    std::lock_guard lock(mu);
    auto it = fail_once.find(step);
    if (it == fail_once.end()) return 0;
    int err = it->second;
    fail_once.erase(it);
    return err;
  }
  size_t Count(const std::string& prefix) {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
    return n;
  }
};

class FakeLoopDevices : public LoopDevices {
 public:
  explicit FakeLoopDevices(CallLog& log) : log_(log) {}

  Result<AttachedLoop> Attach(const std::string& image, bool read_only) override {
    log_.Record("attach " + image + (read_only ? " ro" : ""));
    if (int err = log_.ShouldFail("attach")) return SysError("attach " + image, err);
    auto id = IdOf(image);
    if (!id.ok()) return id.error();
    std::lock_guard lock(mu_);
    std::string dev = "/dev/loop" + std::to_string(next_++);
    bound_[dev] = *id;
    return AttachedLoop{dev, UniqueFd()};
  }
  Result<std::optional<std::string>> FindByBacking(FileId backing) override {
    std::lock_guard lock(mu_);
    for (const auto& [dev, id] : bound_) {
      if (id == backing) return std::optional<std::string>(dev);
    }
    return std::optional<std::string>();
  }
  Status Detach(const std::string& device) override {
    log_.Record("detach " + device);
    if (int err = log_.ShouldFail("detach")) return SysError("detach " + device, err);
    std::lock_guard lock(mu_);
    bound_.erase(device);
    return Ok();
  }
  // Autoclear: called by FakeMounter when the device's last mount goes.
  void Autoclear(const std::string& device) {
    std::lock_guard lock(mu_);
    bound_.erase(device);
  }
  // Binds a device by hand, as a crash or a container's copy would leave it.
  void Bind(const std::string& device, FileId id) {
    std::lock_guard lock(mu_);
    bound_[device] = id;
  }
  size_t BoundCount() {
    std::lock_guard lock(mu_);
    return bound_.size();
  }

 private:
  CallLog& log_;
  std::mutex mu_;
  int next_ = 0;
  std::map<std::string, FileId> bound_;
};

class FakeMounter : public Mounter {
 public:
  FakeMounter(CallLog& log, FakeLoopDevices& loops) : log_(log), loops_(loops) {}

  Status Mount(const std::string& source, const std::string& target, const std::string& fstype,
               const std::string& options) override {
    log_.Record("mount " + source + " " + target + " " + fstype + " " + options);
    if (int err = log_.ShouldFail("mount"))
      return SysError("mount " + source + " on " + target, err);
    std::lock_guard lock(mu_);
    mounts_.push_back({source, target, fstype, options});
    return Ok();
  }
  Status Unmount(const std::string& target) override {
    log_.Record("unmount " + target);
    if (int err = log_.ShouldFail("unmount")) return SysError("unmount " + target, err);
    std::lock_guard lock(mu_);
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
      if (it->target == target) {
        std::string source = it->source;
        mounts_.erase(std::next(it).base());
        loops_.Autoclear(source);
        return Ok();
      }
    }
    return SysError("unmount " + target, EINVAL);
  }
  Result<std::vector<MountEntry>> List() override {
    std::lock_guard lock(mu_);
    return mounts_;
  }
  void Add(MountEntry e) {
    std::lock_guard lock(mu_);
    mounts_.push_back(std::move(e));
  }
  size_t MountCount() {
    std::lock_guard lock(mu_);
    return mounts_.size();
  }

 private:
  CallLog& log_;
  FakeLoopDevices& loops_;
  std::mutex mu_;
  std::vector<MountEntry> mounts_;
};

class FakeFormatter : public Formatter {
 public:
  explicit FakeFormatter(CallLog& log) : log_(log) {}
  Status MakeExt4(const std::string& image) override {
    log_.Record("mkfs " + image);
    if (int err = log_.ShouldFail("mkfs")) return SysError("format " + image, err);
    return Ok();
  }

 private:
  CallLog& log_;
};

}  // namespace helix::vol::testing
