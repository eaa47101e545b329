// helixauthz: parse flags and settings, build the objects, serve or decide
// once. Everything else is in helixauthz_lib, which the tests link too.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "authz-plugin/docker/docker_values.h"
#include "authz-plugin/engine/engine_view.h"
#include "authz-plugin/policy/policy_store.h"
#include "authz-plugin/protocol/authorizer.h"
#include "common/docker_client.h"
#include "common/log.h"
#include "common/plugin_server.h"
#include "common/settings.h"
#include "common/sha256.h"

namespace {

constexpr const char* kUsage = R"(usage: helixauthz COMMAND [OPTIONS]

Docker authorization plugin: admits privileged containers only in the shape
of a desktop, and refuses the known ways around such a policy.

commands:
  serve --policy FILE [--socket PATH] [--engine-socket PATH]
             serve the authorization plugin protocol
               --socket         default /run/docker/plugins/helixauthz.sock
               --engine-socket  the engine's API socket, for looking up the
                                containers, images and volumes a request
                                names (default /run/docker.sock)
             The policy is reloaded when FILE changes and on SIGHUP.
  check --policy FILE [--engine-socket PATH] [REQUEST.json]
             decide on one AuthZReq document (as dockerd sends it) from
             REQUEST.json or stdin; print the answer; exit 0 when allowed,
             1 when denied, 2 on a usage or policy error. Lookups go to
             --engine-socket, else DOCKER_HOST; without either, requests
             that need one are denied.
  validate --policy FILE
             check a policy file; exit 0 when valid, 1 when not (with the
             line and key of each problem), 2 on a usage error
  seccomp-digest PROFILE.json
             print the digest a policy pins a seccomp profile by
             ("seccomp=sha256:..."): that of the JSON as the docker CLI
             sends it, compacted
  help       print this text

settings (environment): LOG_LEVEL (info), AUDIT deny|all (deny): which
decisions are logged on stdout as JSON lines. See docs/helixauthz.md.
)";

constexpr const char* kDefaultSocket = "/run/docker/plugins/helixauthz.sock";
constexpr const char* kDefaultEngineSocket = "/run/docker.sock";

int Fail(const std::string& message, int code = 2) {
  std::fprintf(stderr, "helixauthz: %s\n", message.c_str());
  return code;
}

// An engine view for `check` without an engine: every lookup fails, and so
// every decision that needs one denies, saying why.
class NoEngine : public helix::authz::EngineView {
 public:
  helix::Result<helix::authz::ContainerInfo> InspectContainer(const std::string& ref) override {
    return Missing("container", ref);
  }
  helix::Result<helix::authz::ImageInfo> InspectImage(const std::string& ref) override {
    return Missing("image", ref);
  }
  helix::Result<helix::authz::VolumeInfo> InspectVolume(const std::string& ref) override {
    return Missing("volume", ref);
  }
  helix::Result<helix::authz::NetworkInfo> InspectNetwork(const std::string& ref) override {
    return Missing("network", ref);
  }
  helix::Result<std::vector<std::string>> ContainersUsingVolume(const std::string& ref) override {
    return Missing("the containers using volume", ref);
  }
  helix::Result<helix::authz::EngineFacts> Facts() override {
    return Missing("the engine", "info");
  }

 private:
  static helix::Error Missing(const std::string& what, const std::string& ref) {
    return helix::Error(helix::ErrorKind::kSystem, "no engine to look up " + what + " \"" + ref +
                                                       "\" (give --engine-socket or DOCKER_HOST)");
  }
};

struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
};

bool ParseArgs(const std::vector<std::string>& args, Args& out, std::string& error) {
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    if (!out.flags.count(a)) {
      error = "unknown flag \"" + a + "\", see helixauthz help";
      return false;
    }
    if (i + 1 >= args.size()) {
      error = "flag " + a + " needs a value";
      return false;
    }
    out.flags[a] = args[++i];
  }
  return true;
}

int Serve(const Args& args) {
  auto env = helix::Environment::FromProcess();
  auto level = env.String("LOG_LEVEL", "info");
  if (!level.ok()) return Fail(level.error().message(), 1);
  if (auto s = helix::InitLogging(*level); !s.ok()) return Fail(s.error().message(), 1);
  auto audit_mode = env.Choice("AUDIT", {"deny", "all"}, "deny");
  if (!audit_mode.ok()) return Fail(audit_mode.error().message(), 1);

  helix::authz::PolicyStore policies(args.flags.at("--policy"));
  if (auto s = policies.Load(); !s.ok()) return Fail(s.error().message(), 1);

  // SIGHUP reloads, SIGTERM and SIGINT stop: all taken by one thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  helix::authz::DockerEngineView engine(args.flags.at("--engine-socket"));
  helix::authz::AuditLog audit(stdout, *audit_mode == "all");
  helix::authz::Authorizer authorizer(policies, engine, audit);
  // Many threads: the engine lookups a decision makes come back to this
  // plugin as requests of their own, and must not wait behind it.
  helix::PluginServer server({args.flags.at("--socket"), {"authz"}, 64});
  helix::authz::RegisterAuthz(server, authorizer);
  if (auto s = server.Listen(); !s.ok()) return Fail(s.error().message(), 1);
  server.SetReady();

  // The engine's facts (user namespaces) are asked at start, after every
  // reload and once a minute: a user-namespaced desktop is admitted only on
  // an engine that runs with userns-remap.
  auto refresh_facts = [&] {
    auto facts = authorizer.RefreshFacts();
    if (!facts.ok()) {
      spdlog::warn("engine facts: {}", facts.error().message());
    } else if (policies.Current()->rules.userns.enabled() && !*facts->userns) {
      spdlog::warn(
          "the engine does not run with user namespaces: user-namespaced desktops are refused");
    } else {
      spdlog::info("engine runs with user namespaces: {}", *facts->userns ? "yes" : "no");
    }
  };
  std::atomic<bool> stopping{false};
  std::thread watcher([&] {
    int seconds = 0;
    bool known = false;
    while (!stopping) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const bool reloaded = policies.ReloadIfChanged();
      if (reloaded || (!known && seconds % 2 == 0) || seconds % 60 == 0) {
        refresh_facts();
        known = authorizer.Facts().userns.has_value();
      }
      ++seconds;
    }
  });
  std::thread signaler([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGHUP) {
        spdlog::info("SIGHUP: reloading {}", policies.path());
        policies.ReloadIfChanged(/*force=*/true);
        continue;
      }
      spdlog::info("signal {}: stopping", sig);
      server.Stop();
      return;
    }
  });
  spdlog::info("listening on {}; policy {}; engine {}", args.flags.at("--socket"), policies.path(),
               args.flags.at("--engine-socket"));
  server.Serve();
  stopping = true;
  watcher.join();
  pthread_kill(signaler.native_handle(), SIGTERM);
  signaler.join();
  spdlog::info("stopped");
  return 0;
}

int Check(const Args& args) {
  if (args.positional.size() > 1) return Fail("check takes at most one REQUEST.json");
  std::string document;
  if (args.positional.empty() || args.positional[0] == "-") {
    document.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(args.positional[0], std::ios::binary);
    if (!in) return Fail("cannot read \"" + args.positional[0] + "\"");
    document.assign(std::istreambuf_iterator<char>(in), {});
  }
  helix::authz::PolicyStore policies(args.flags.at("--policy"));
  if (auto s = policies.Load(); !s.ok()) return Fail(s.error().message());
  std::string socket = args.flags.at("--engine-socket");
  if (socket.empty()) {
    if (const char* host = std::getenv("DOCKER_HOST"); host && *host) {
      auto path = helix::DockerClient::SocketFromHost(host);
      if (!path.ok()) return Fail("DOCKER_HOST: " + path.error().message());
      socket = *path;
    }
  }
  std::unique_ptr<helix::authz::EngineView> engine;
  if (socket.empty()) {
    engine = std::make_unique<NoEngine>();
  } else {
    engine = std::make_unique<helix::authz::DockerEngineView>(socket);
  }
  // The answer on stdout says it all: no audit line beside it.
  std::FILE* devnull = std::fopen("/dev/null", "w");
  if (devnull == nullptr) return Fail("open /dev/null: " + std::string(std::strerror(errno)));
  helix::authz::AuditLog quiet(devnull, false);
  helix::authz::Authorizer authorizer(policies, *engine, quiet);
  auto decision = authorizer.DecideRequest(document);
  std::printf("%s\n", helix::authz::Authorizer::Answer(decision).dump().c_str());
  return decision.allow ? 0 : 1;
}

int SeccompDigest(const std::vector<std::string>& args) {
  if (args.size() != 3) return Fail("seccomp-digest takes one PROFILE.json");
  std::ifstream in(args[2], std::ios::binary);
  if (!in) return Fail("cannot read \"" + args[2] + "\"");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto compact = helix::authz::CompactJson(text);
  if (!compact || nlohmann::json::parse(*compact, nullptr, false).is_discarded()) {
    return Fail("\"" + args[2] + "\" is not JSON", 1);
  }
  std::printf("seccomp=%s\n", helix::Sha256Hex(*compact).c_str());
  return 0;
}

int Validate(const Args& args) {
  if (!args.positional.empty()) return Fail("validate takes no arguments");
  auto policy = helix::authz::LoadPolicy(args.flags.at("--policy"));
  if (!policy.ok()) {
    std::fprintf(stderr, "%s\n", policy.error().message().c_str());
    return 1;
  }
  std::printf("%s: valid\n", args.flags.at("--policy").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> argv_strings(argv, argv + argc);
  if (argv_strings.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& command = argv_strings[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "seccomp-digest") return SeccompDigest(argv_strings);
  Args args;
  args.flags = {{"--policy", ""}};
  if (command == "serve") {
    args.flags["--socket"] = kDefaultSocket;
    args.flags["--engine-socket"] = kDefaultEngineSocket;
  } else if (command == "check") {
    args.flags["--engine-socket"] = "";
  } else if (command != "validate") {
    return Fail("unknown command \"" + command + "\", see helixauthz help");
  }
  std::string error;
  if (!ParseArgs(argv_strings, args, error)) return Fail(error);
  if (args.flags.at("--policy").empty()) return Fail(command + " needs --policy FILE");
  if (command == "serve") {
    if (!args.positional.empty()) return Fail("serve takes no arguments");
    return Serve(args);
  }
  if (command == "check") return Check(args);
  return Validate(args);
}
