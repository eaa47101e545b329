// helixauthz: pick the command, parse its flags, run it. The commands live
// in helixauthz_lib (cli/commands.h), which the tests link too.
#include <cstdio>
#include <string>
#include <vector>

#include "authz-plugin/cli/commands.h"
#include "common/flags.h"

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

}  // namespace

int main(int argc, char** argv) {
  using helix::authz::Fail;
  const std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string& command = args[1];
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::vector<helix::Flags::Spec> specs = {{"--policy", ""}};
  if (command == "serve") {
    specs.push_back({"--socket", helix::authz::kDefaultSocket});
    specs.push_back({"--engine-socket", helix::authz::kDefaultEngineSocket});
  } else if (command == "check") {
    specs.push_back({"--engine-socket", ""});
  } else if (command == "seccomp-digest") {
    specs.clear();
  } else if (command != "validate") {
    return Fail("unknown command \"" + command + "\", see helixauthz help");
  }
  helix::Flags flags(specs, /*positional=*/true, "", ", see helixauthz help");
  if (auto s = flags.Parse({args.begin() + 2, args.end()}); !s.ok()) {
    return Fail(s.error().message());
  }
  if (command == "seccomp-digest") return helix::authz::SeccompDigestCommand(flags);
  if (flags.Get("--policy").empty()) return Fail(command + " needs --policy FILE");
  if (command == "serve") {
    if (!flags.positional().empty()) return Fail("serve takes no arguments");
    return helix::authz::ServeCommand(flags);
  }
  if (command == "check") return helix::authz::CheckCommand(flags);
  return helix::authz::ValidateCommand(flags);
}
