// helixvol's commands: serve, release, preload (commands.h).
#include "volume-plugin/cli/commands.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "common/http/plugin_server.h"
#include "common/http/serve.h"
#include "common/log.h"
#include "common/settings.h"
#include "volume-plugin/cli/serve_settings.h"
#include "volume-plugin/domain/volume_manager.h"
#include "volume-plugin/protocol/driver_api.h"
#include "volume-plugin/system/cloner.h"
#include "volume-plugin/system/fault_point.h"
#include "volume-plugin/system/file_system.h"
#include "volume-plugin/system/formatter.h"
#include "volume-plugin/system/freezer.h"
#include "volume-plugin/system/loop_devices.h"
#include "volume-plugin/system/mounter.h"
#include "volume-plugin/system/pool.h"
#include "volume-plugin/system/state_lock.h"
#include "volume-plugin/tools/preload.h"

namespace helix::vol {
namespace {

std::atomic<bool> g_interrupted{false};

}  // namespace

int Fail(const std::string& message) {
  std::fprintf(stderr, "helixvol: %s\n", message.c_str());
  return 1;
}

int ServeCommand(const Flags& flags) {
  auto settings = ReadServeSettings(Environment::FromProcess(), flags.Get("--state-dir"),
                                    flags.Get("--mount-root"));
  if (!settings.ok()) return Fail(settings.error().message());
  if (auto s = InitLogging(settings->log_level); !s.ok()) return Fail(s.error().message());
  if (auto s = ArmFaultPoint(settings->fault_point); !s.ok()) return Fail(s.error().message());
  const ManagerConfig& config = settings->manager;

  // Before anything touches the state directory, and held until exit.
  auto lock = StateLock::Acquire(config.state_dir);
  if (!lock.ok()) return Fail(lock.error().message());

  SignalWaiter signals(/*hup=*/false);  // before any thread starts
  KernelLoopDevices loops;
  KernelMounter mounter;
  Ext4Formatter formatter;
  KernelCloner cloner;
  KernelFreezer freezer;
  PosixFileSystem files;
  VolumeManager manager(config, {loops, mounter, formatter, cloner, freezer, formatter, files});
  PluginServer::Options options;
  options.socket_path = flags.Get("--socket");
  options.implements = {"VolumeDriver"};
  options.max_body_bytes = 1 << 20;  // a Create with its options is under a KiB
  PluginServer server(options);
  RegisterVolumeDriver(server, manager);

  spdlog::info("listening on {}; state in {}, mounts in {}", options.socket_path, config.state_dir,
               config.mount_root);
  // Requests wait while the pool is prepared and recovered.
  return ServeUntilSignal(server, signals, [&]() -> Status {
    HELIX_ASSIGN_OR_RETURN(PoolInfo pool, PreparePool(settings->pool, loops, mounter));
    manager.UsePool(pool);
    return manager.Recover();
  });
}

int ReleaseCommand(const Flags& flags) {
  if (flags.positional().size() != 1) {
    return Fail("release takes one volume name, see helixvol help");
  }
  nlohmann::json req = {{"Name", flags.positional()[0]}};
  if (!flags.Get("--id").empty()) req["ID"] = flags.Get("--id");
  auto answer = CallPlugin(flags.Get("--socket"), "/Helixvol.Release", req);
  if (!answer.ok()) return Fail(answer.error().message());
  for (const auto& id : answer->value("Released", nlohmann::json::array())) {
    std::printf("released %s\n", id.get<std::string>().c_str());
  }
  return 0;
}

int PreloadCommand(const std::vector<std::string>& args) {
  const char* docker_host = std::getenv("DOCKER_HOST");
  auto options = ParsePreloadArgs(args, docker_host ? docker_host : "");
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
  if (auto s = RunPreload(*options, print, g_interrupted); !s.ok()) {
    return Fail(s.error().message());
  }
  return 0;
}

}  // namespace helix::vol
