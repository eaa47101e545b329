#include "authz-plugin/cli/commands.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <thread>

#include "authz-plugin/cli/settings.h"
#include "authz-plugin/docker/docker_values.h"
#include "authz-plugin/engine/engine_view.h"
#include "authz-plugin/policy/policy_store.h"
#include "authz-plugin/protocol/authorizer.h"
#include "common/http/docker_client.h"
#include "common/http/serve.h"
#include "common/json_compact.h"
#include "common/log.h"
#include "common/sha256.h"

namespace helix::authz {
namespace {

// An engine view for `check` without an engine: every lookup fails, and so
// every decision that needs one denies, saying why.
class NoEngine : public EngineView {
 public:
  Result<ContainerInfo> InspectContainer(const std::string& ref) override {
    return Missing("container", ref);
  }
  Result<ImageInfo> InspectImage(const std::string& ref) override { return Missing("image", ref); }
  Result<VolumeInfo> InspectVolume(const std::string& ref) override {
    return Missing("volume", ref);
  }
  Result<NetworkInfo> InspectNetwork(const std::string& ref) override {
    return Missing("network", ref);
  }
  Result<std::vector<std::string>> ContainersUsingVolume(const std::string& ref) override {
    return Missing("the containers using volume", ref);
  }
  Result<EngineFacts> Facts() override { return Missing("the engine", "info"); }

 private:
  static Error Missing(const std::string& what, const std::string& ref) {
    return Error(ErrorKind::kSystem, "no engine to look up " + what + " \"" + ref +
                                         "\" (give --engine-socket or DOCKER_HOST)");
  }
};

// The engine's facts (user namespaces) are asked at start, every two
// seconds until known, after every reload and once a minute: a
// user-namespaced desktop is admitted only on an engine with userns-remap.
void RefreshFacts(Authorizer& authorizer, const PolicyStore& policies) {
  auto facts = authorizer.RefreshFacts();
  if (!facts.ok()) {
    spdlog::warn("engine facts: {}", facts.error().message());
  } else if (policies.Current()->rules.userns.enabled() && !*facts->userns) {
    spdlog::warn(
        "the engine does not run with user namespaces: user-namespaced desktops are refused");
  } else {
    spdlog::info("engine runs with user namespaces: {}", *facts->userns ? "yes" : "no");
  }
}

std::string ReadAll(std::istream& in) { return {std::istreambuf_iterator<char>(in), {}}; }

}  // namespace

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "helixauthz: %s\n", message.c_str());
  return code;
}

int ServeCommand(const Flags& flags) {
  auto settings = ReadAuthzSettings(Environment::FromProcess());
  if (!settings.ok()) return Fail(settings.error().message(), 1);
  if (auto s = InitLogging(settings->log_level); !s.ok()) return Fail(s.error().message(), 1);
  PolicyStore policies(flags.Get("--policy"));
  if (auto s = policies.Load(); !s.ok()) return Fail(s.error().message(), 1);

  SignalWaiter signals(/*hup=*/true);  // before any thread starts
  DockerEngineView engine(flags.Get("--engine-socket"));
  AuditLog audit(stdout, settings->audit_allows);
  Authorizer authorizer(policies, engine, audit);
  PluginServer::Options options;
  options.socket_path = flags.Get("--socket");
  options.implements = {"authz"};
  // Many workers: the engine lookups a decision makes come back to this
  // plugin as requests of their own, and must not wait behind it.
  options.threads = 64;
  PluginServer server(options);
  RegisterAuthz(server, authorizer);

  std::atomic<bool> stopping{false};
  std::thread watcher([&] {
    bool known = false;
    for (int seconds = 0; !stopping; ++seconds) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const bool reloaded = policies.ReloadIfChanged();
      if (reloaded || (!known && seconds % 2 == 0) || seconds % 60 == 0) {
        RefreshFacts(authorizer, policies);
        known = authorizer.Facts().userns.has_value();
      }
    }
  });
  spdlog::info("listening on {}; policy {}; engine {}", options.socket_path, policies.path(),
               flags.Get("--engine-socket"));
  const int status = ServeUntilSignal(server, signals, nullptr, [&] {
    spdlog::info("SIGHUP: reloading {}", policies.path());
    policies.ReloadIfChanged(/*force=*/true);
  });
  stopping = true;
  watcher.join();
  return status;
}

int CheckCommand(const Flags& flags) {
  const auto& args = flags.positional();
  if (args.size() > 1) return Fail("check takes at most one REQUEST.json");
  std::string document;
  if (args.empty() || args[0] == "-") {
    document = ReadAll(std::cin);
  } else {
    std::ifstream in(args[0], std::ios::binary);
    if (!in) return Fail("cannot read \"" + args[0] + "\"");
    document = ReadAll(in);
  }
  PolicyStore policies(flags.Get("--policy"));
  if (auto s = policies.Load(); !s.ok()) return Fail(s.error().message());
  std::string socket = flags.Get("--engine-socket");
  if (socket.empty()) {
    if (const char* host = std::getenv("DOCKER_HOST"); host && *host) {
      auto path = DockerClient::SocketFromHost(host);
      if (!path.ok()) return Fail("DOCKER_HOST: " + path.error().message());
      socket = *path;
    }
  }
  std::unique_ptr<EngineView> engine;
  if (socket.empty()) {
    engine = std::make_unique<NoEngine>();
  } else {
    engine = std::make_unique<DockerEngineView>(socket);
  }
  // The answer on stdout says it all: no audit line beside it.
  std::FILE* devnull = std::fopen("/dev/null", "w");
  if (devnull == nullptr) return Fail("open /dev/null: " + std::string(std::strerror(errno)));
  AuditLog quiet(devnull, false);
  Authorizer authorizer(policies, *engine, quiet);
  if (!socket.empty()) (void)authorizer.RefreshFacts();
  auto decision = authorizer.DecideRequest(document);
  std::printf("%s\n", Authorizer::Answer(decision).dump().c_str());
  return decision.allow ? 0 : 1;
}

int ValidateCommand(const Flags& flags) {
  if (!flags.positional().empty()) return Fail("validate takes no arguments");
  auto policy = LoadPolicy(flags.Get("--policy"));
  if (!policy.ok()) {
    std::fprintf(stderr, "%s\n", policy.error().message().c_str());
    return 1;
  }
  std::printf("%s: valid\n", flags.Get("--policy").c_str());
  return 0;
}

int SeccompDigestCommand(const Flags& flags) {
  const auto& args = flags.positional();
  if (args.size() != 1) return Fail("seccomp-digest takes one PROFILE.json");
  std::ifstream in(args[0], std::ios::binary);
  if (!in) return Fail("cannot read \"" + args[0] + "\"");
  auto compact = CompactJson(ReadAll(in));
  if (!compact || nlohmann::json::parse(*compact, nullptr, false).is_discarded()) {
    return Fail("\"" + args[0] + "\" is not JSON", 1);
  }
  std::printf("seccomp=%s\n", Sha256Hex(*compact).c_str());
  return 0;
}

}  // namespace helix::authz
