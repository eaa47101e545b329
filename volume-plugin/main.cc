// helixvol: parse settings, build the objects, serve. Everything else lives
// in helixvol_lib, which the tests link too.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/plugin_server.h"
#include "common/settings.h"
#include "volume-plugin/cloner.h"
#include "volume-plugin/create_options.h"
#include "volume-plugin/driver_api.h"
#include "volume-plugin/fault_point.h"
#include "volume-plugin/formatter.h"
#include "volume-plugin/freezer.h"
#include "volume-plugin/loop_devices.h"
#include "volume-plugin/mounter.h"
#include "volume-plugin/pool.h"
#include "volume-plugin/preload.h"
#include "volume-plugin/serve_settings.h"
#include "volume-plugin/state_lock.h"
#include "volume-plugin/volume_manager.h"

namespace {

constexpr const char* kUsage = R"(usage: helixvol COMMAND [OPTIONS]

Docker volume plugin: each volume is its own ext4 filesystem in a sparse
image file on a loop device.

commands:
  serve      serve the volume plugin protocol
               --socket PATH      default /run/docker/plugins/helixvol.sock
               --state-dir DIR    the pool lives in DIR/volumes
                                  (default /var/lib/helixvol)
               --mount-root DIR   where filesystems are mounted
                                  (default <state-dir>/mounts; a managed
                                  plugin passes its propagated mount)
  release NAME [--id ID] [--socket PATH]
             drop a mount reference whose container is gone (all of the
             volume's references without --id), unmounting at zero
  preload --name SNAPSHOT --engine-image IMAGE (--image REF | --archive FILE)...
             build a golden data root through the engine's API: load the
             images into the engine image's own engine on a new volume and
             seal it as a snapshot (docs/golden-data-roots.md for all flags:
             --host, --source-host, --driver, --size, --label, --shape,
             --cap-drop, --memory, --cpus, --pids-limit, --timeout)
  help       print this text

settings (environment): DEFAULT_SIZE (20G), MAX_SIZE (1T), POOL_WARNING (10G),
POOL_CRITICAL (1G; formerly POOL_RESERVE), MOUNT_TIMEOUT seconds (25),
POOL auto|reflink|copy (auto), POOL_SIZE (100G),
DEFAULT_FROM (none), FREEZE_TIMEOUT seconds (10), LOG_LEVEL (info).
See docs/helixvol.md.
)";

constexpr const char* kDefaultSocket = "/run/docker/plugins/helixvol.sock";

int Fail(const std::string& message) {
  std::fprintf(stderr, "helixvol: %s\n", message.c_str());
  return 1;
}

// Reads "--flag value" pairs; anything else is an error naming it.
bool ParseFlags(const std::vector<std::string>& args, size_t from,
                std::map<std::string, std::string>& flags, std::vector<std::string>& positional,
                std::string& error) {
  for (size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      if (!flags.count(a)) {
        error = "unknown flag \"" + a + "\"";
        return false;
      }
      if (i + 1 >= args.size()) {
        error = "flag " + a + " needs a value";
        return false;
      }
      flags[a] = args[++i];
    } else {
      positional.push_back(a);
    }
  }
  return true;
}

int Serve(const std::map<std::string, std::string>& flags) {
  auto settings = helix::vol::ReadServeSettings(helix::Environment::FromProcess(),
                                                flags.at("--state-dir"), flags.at("--mount-root"));
  if (!settings.ok()) return Fail(settings.error().message());
  if (auto s = helix::InitLogging(settings->log_level); !s.ok()) return Fail(s.error().message());
  if (auto s = helix::vol::ArmFaultPoint(settings->fault_point); !s.ok()) {
    return Fail(s.error().message());
  }
  const helix::vol::ManagerConfig& config = settings->manager;

  // Before anything touches the state directory, and held until exit.
  auto lock = helix::vol::StateLock::Acquire(config.state_dir);
  if (!lock.ok()) return Fail(lock.error().message());

  // Signals are taken by one thread with sigwait; block them everywhere else
  // before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  helix::vol::KernelLoopDevices loops;
  helix::vol::KernelMounter mounter;
  helix::vol::Ext4Formatter formatter;
  helix::vol::KernelCloner cloner;
  helix::vol::KernelFreezer freezer;
  helix::vol::VolumeManager manager(config,
                                    {loops, mounter, formatter, cloner, freezer, formatter});
  helix::PluginServer::Options serving_options;
  serving_options.socket_path = flags.at("--socket");
  serving_options.implements = {"VolumeDriver"};
  serving_options.max_body_bytes = 1 << 20;  // a Create with its options is under a KiB
  helix::PluginServer server(serving_options);
  helix::vol::RegisterVolumeDriver(server, manager);

  // Listen before recovering: dockerd gives a starting plugin only seconds to
  // answer, and requests wait for SetReady() rather than see half the volumes.
  if (auto s = server.Listen(); !s.ok()) return Fail(s.error().message());
  std::thread serving([&server] { server.Serve(); });
  std::thread stopper([&server, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    server.Stop();
  });
  spdlog::info("listening on {}; state in {}, mounts in {}", flags.at("--socket"), config.state_dir,
               config.mount_root);
  auto pool = helix::vol::PreparePool(settings->pool, loops, mounter);
  helix::Status started = helix::Ok();
  if (pool.ok()) {
    manager.UsePool(*pool);
    started = manager.Recover();
  } else {
    started = pool.error();
  }
  if (!started.ok()) {
    spdlog::critical("start-up failed: {}", started.error().message());
    server.Stop();
    serving.join();
    stopper.detach();
    return 1;
  }
  server.SetReady();
  serving.join();
  // Serve returned because of a signal (the stopper is done) or an error.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  spdlog::info("stopped");
  return 0;
}

int Release(const std::map<std::string, std::string>& flags,
            const std::vector<std::string>& positional) {
  if (positional.size() != 1) {
    return Fail("release takes one volume name, see helixvol help");
  }
  nlohmann::json req = {{"Name", positional[0]}};
  if (!flags.at("--id").empty()) req["ID"] = flags.at("--id");
  auto answer = helix::CallPlugin(flags.at("--socket"), "/Helixvol.Release", req);
  if (!answer.ok()) return Fail(answer.error().message());
  for (const auto& id : answer->value("Released", nlohmann::json::array())) {
    std::printf("released %s\n", id.get<std::string>().c_str());
  }
  return 0;
}

std::atomic<bool> g_interrupted{false};

int Preload(const std::vector<std::string>& args) {
  const char* docker_host = std::getenv("DOCKER_HOST");
  auto options = helix::vol::ParsePreloadArgs(args, docker_host ? docker_host : "");
  if (!options.ok()) return Fail(options.error().message());
  // An interrupt lets the run clean up what it made instead of dying mid-way.
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = true; };
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto print = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  if (auto s = helix::vol::RunPreload(*options, print, g_interrupted); !s.ok()) {
    return Fail(s.error().message());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& command = args[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "preload") {
    return Preload(std::vector<std::string>(args.begin() + 2, args.end()));
  }
  std::map<std::string, std::string> flags = {{"--socket", kDefaultSocket}};
  if (command == "serve") {
    flags["--state-dir"] = "/var/lib/helixvol";
    flags["--mount-root"] = "";
  } else if (command == "release") {
    flags["--id"] = "";
  } else {
    return Fail("unknown command \"" + command + "\", see helixvol help");
  }
  std::vector<std::string> positional;
  std::string error;
  if (!ParseFlags(args, 2, flags, positional, error)) return Fail(error);
  if (command == "serve") {
    if (!positional.empty()) return Fail("serve takes no arguments, got \"" + positional[0] + "\"");
    return Serve(flags);
  }
  return Release(flags, positional);
}
