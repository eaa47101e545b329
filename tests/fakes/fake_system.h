// Fakes of the system layer for unit tests of VolumeManager (the file
// system's is in fake_file_system.h). Each records
// what it was asked in a shared call log, keeps just enough state to answer
// like the kernel would (a loop device disappears when its last mount goes:
// autoclear), and can be told to fail at one named step.
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "fakes/fake_file_system.h"
#include "volume-plugin/domain/volume_manager.h"
#include "volume-plugin/system/pool.h"
#include "volume-plugin/system/system.h"

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
    bound_[dev] = Binding(dev, *id, image, read_only, /*autoclear=*/true);
    return AttachedLoop{dev, UniqueFd(), RdevOf(dev)};
  }
  Result<std::vector<LoopBinding>> List() override {
    std::lock_guard lock(mu_);
    std::vector<LoopBinding> all;
    for (const auto& [dev, b] : bound_) all.push_back(b);
    return all;
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
    if (auto it = bound_.find(device); it != bound_.end() && it->second.autoclear) {
      bound_.erase(it);
    }
  }
  // Binds a device by hand, as a crash or a container's copy would leave it
  // (autoclear, as helixvol binds), or as `losetup` would (no autoclear).
  void Bind(const std::string& device, FileId id, bool read_only = false, bool autoclear = true) {
    std::lock_guard lock(mu_);
    bound_[device] = Binding(device, id, "", read_only, autoclear);
  }
  size_t BoundCount() {
    std::lock_guard lock(mu_);
    return bound_.size();
  }
  // The device number of `device` ("/dev/loop3" -> 7:3), as the kernel
  // would report it in mountinfo.
  static dev_t RdevOf(const std::string& device) {
    return makedev(7, static_cast<unsigned>(std::stoul(device.substr(9))));
  }

 private:
  static LoopBinding Binding(const std::string& dev, FileId id, const std::string& path, bool ro,
                             bool autoclear) {
    return LoopBinding{dev, RdevOf(dev), id, path, ro, autoclear};
  }

  CallLog& log_;
  std::mutex mu_;
  int next_ = 0;
  std::map<std::string, LoopBinding> bound_;
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
    MountEntry e{source, target, fstype, options, 0, options};
    if (source.rfind("/dev/loop", 0) == 0) e.device = FakeLoopDevices::RdevOf(source);
    mounts_.push_back(e);
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
  // The idmapped mount is recorded with source "idmap:<source>", so that
  // unmounting it never autoclears the loop device the volume's mount holds.
  Status IdmapBind(const std::string& path, const std::string& idmap) override {
    log_.Record("idmap " + path + " " + idmap);
    if (int err = log_.ShouldFail("idmap")) return SysError("idmap " + path, err);
    std::lock_guard lock(mu_);
    const std::string parent = path.substr(0, path.rfind('/'));
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) {
      if (it->target == parent) {
        MountEntry e = *it;
        e.source = "idmap:" + it->source;
        e.target = path;
        e.options += ",idmapped";
        mounts_.push_back(e);
        return Ok();
      }
    }
    return SysError("open_tree " + path, ENOENT);
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

// Copies files (the unit tests' pool is a plain directory); says a reflink
// clone shares everything with its source, a copy nothing.
class FakeCloner : public Cloner {
 public:
  explicit FakeCloner(CallLog& log) : log_(log) {}
  Status Clone(const std::string& src, const std::string& dst, CloneMethod method) override {
    log_.Record("clone " + std::string(CloneMethodName(method)) + " " + src + " " + dst);
    if (int err = log_.ShouldFail("clone")) return SysError("clone " + src, err);
    // Same size, no data: the images in unit tests are sparse and unformatted.
    struct stat st {};
    if (::stat(src.c_str(), &st) != 0) return HELIX_SYS_ERROR("clone " + src);
    if (::truncate(std::string(dst).c_str(), 0) != 0 && errno != ENOENT)
      return HELIX_SYS_ERROR(dst);
    std::ofstream(dst, std::ios::binary).close();
    if (::truncate(dst.c_str(), st.st_size) != 0) return HELIX_SYS_ERROR("clone to " + dst);
    std::lock_guard lock(mu_);
    if (method == CloneMethod::kReflink) shared_.insert(IdOf(dst)->ino);  // survives renames
    return Ok();
  }
  Result<std::optional<uint64_t>> SharedBytes(const std::string& path) override {
    auto id = IdOf(path);
    if (!id.ok()) return id.error();
    std::lock_guard lock(mu_);
    return std::optional<uint64_t>(shared_.count(id->ino) ? 4096 : 0);
  }
  Result<uint64_t> ExtentCount(const std::string&) override { return extents; }
  uint64_t extents = 1;

 private:
  CallLog& log_;
  std::mutex mu_;
  std::set<ino_t> shared_;
};

class FakeFreezer : public Freezer {
 public:
  explicit FakeFreezer(CallLog& log) : log_(log) {}
  Status Freeze(const std::string& mountpoint) override {
    log_.Record("freeze " + mountpoint);
    if (int err = log_.ShouldFail("freeze")) return SysError("freeze " + mountpoint, err);
    return Ok();
  }
  Status Thaw(const std::string& mountpoint) override {
    log_.Record("thaw " + mountpoint);
    return Ok();
  }

 private:
  CallLog& log_;
};

class FakeExt4Tools : public Ext4Tools {
 public:
  explicit FakeExt4Tools(CallLog& log) : log_(log) {}
  Status SetRandomUuid(const std::string& image) override {
    log_.Record("uuid " + image);
    return Ok();
  }
  Status Grow(const std::string& image) override {
    log_.Record("grow " + image);
    return Ok();
  }
  Result<std::string> Uuid(const std::string&) override { return std::string("fake-uuid"); }

 private:
  CallLog& log_;
};

// Every fake, wired together, with the SystemOps a VolumeManager takes.
struct FakeSystem {
  CallLog log;
  FakeLoopDevices loops{log};
  FakeMounter mounter{log, loops};
  FakeFormatter formatter{log};
  FakeCloner cloner{log};
  FakeFreezer freezer{log};
  FakeExt4Tools ext4{log};
  FakeFileSystem files;
  SystemOps Ops() { return {loops, mounter, formatter, cloner, freezer, ext4, files}; }
};

}  // namespace helix::vol::testing
