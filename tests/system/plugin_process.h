// Runs the real helixvol binary as a child process on a private socket, state
// directory and mount root, for tests that talk to it over HTTP the way
// dockerd does. The destructor stops it, unmounts what it left and removes
// the directory, so a failing test cleans up too.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/http/plugin_server.h"
#include "fakes/temp_dir.h"
#include "volume-plugin/system/mounter.h"

extern char** environ;

namespace helix::testing {

class PluginProcess {
 public:
  // `state_dir` empty: a fresh one in the process's own temporary directory
  // (on /tmp, which cannot reflink, so POOL=auto makes a self-managed pool).
  explicit PluginProcess(std::map<std::string, std::string> env = {}, std::string state_dir = "")
      : env_(std::move(env)), state_dir_(state_dir.empty() ? dir_ / "state" : state_dir) {
    Start();
  }
  ~PluginProcess() {
    Kill(SIGKILL);
    // Unmount whatever is left under the mount root and the state
    // directory, deepest first.
    vol::KernelMounter m;
    if (auto mounts = m.List(); mounts.ok()) {
      for (auto it = mounts->rbegin(); it != mounts->rend(); ++it) {
        if (it->target.rfind(dir_.path() + "/", 0) == 0 ||
            it->target.rfind(state_dir_ + "/", 0) == 0) {
          ::umount2(it->target.c_str(), MNT_DETACH);
        }
      }
    }
  }

  std::string socket() const { return dir_ / "helixvol.sock"; }
  std::string state_dir() const { return state_dir_; }
  std::string mount_root() const { return dir_ / "mounts"; }
  // Scratch space beside the plugin's own files, gone with it.
  std::string scratch(const std::string& rel) const { return dir_ / rel; }
  // Where volume directories are: on /tmp (ext4, no reflink) POOL=auto makes
  // a self-managed XFS pool, unless the test chose another POOL.
  std::string volumes_dir() const {
    struct stat st {};
    bool self_managed = ::stat((state_dir() + "/pool.img").c_str(), &st) == 0;
    return state_dir() + (self_managed ? "/pool/volumes" : "/volumes");
  }
  std::string image(const std::string& name) const {
    return volumes_dir() + "/" + name + "/disk.img";
  }
  std::string meta(const std::string& name) const {
    return volumes_dir() + "/" + name + "/meta.json";
  }

  // The environment of the next Start(); an empty value unsets.
  void SetEnv(const std::string& name, const std::string& value) {
    if (value.empty()) {
      env_.erase(name);
    } else {
      env_[name] = value;
    }
  }

  // Starts the binary and waits until it answers Activate.
  void Start() {
    std::vector<std::string> args = {HELIXVOL_BINARY, "serve",     "--socket",     socket(),
                                     "--state-dir",   state_dir(), "--mount-root", mount_root()};
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (const auto& [k, v] : env_) env_strings.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    REQUIRE(::posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), envp.data()) == 0);
    for (int i = 0; i < 100; ++i) {
      if (CallPlugin(socket(), "/Plugin.Activate", nlohmann::json::object(), 2).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("helixvol did not answer on " << socket());
  }

  // Sends `sig` and reaps the process; returns its wait status.
  int Kill(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    return Wait();
  }

  // Waits for the process to end by itself (a fault point) and returns its
  // wait status.
  int Wait() {
    if (pid_ <= 0) return 0;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  Result<nlohmann::json> Call(const std::string& endpoint, const nlohmann::json& body) {
    return CallPlugin(socket(), "/VolumeDriver." + endpoint, body, 30);
  }
  // The Err text of a call that must fail.
  std::string CallError(const std::string& endpoint, const nlohmann::json& body) {
    auto r = Call(endpoint, body);
    REQUIRE_FALSE(r.ok());
    return r.error().message();
  }
  // The Status of `name` in Get, which must succeed.
  nlohmann::json Status(const std::string& name) {
    auto r = Call("Get", {{"Name", name}});
    INFO((r.ok() ? std::string() : r.error().message()));
    REQUIRE(r.ok());
    return (*r)["Volume"]["Status"];
  }
  // The names List answers, in its order.
  std::vector<std::string> Names() {
    auto r = Call("List", nlohmann::json::object());
    REQUIRE(r.ok());
    std::vector<std::string> names;
    for (const auto& v : (*r)["Volumes"]) names.push_back(v["Name"]);
    return names;
  }

 private:
  TempDir dir_;
  std::map<std::string, std::string> env_;
  std::string state_dir_;
  pid_t pid_ = -1;
};

}  // namespace helix::testing
