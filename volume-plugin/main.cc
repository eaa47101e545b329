// helixvol: pick the command, parse its flags, run it. The commands live in
// helixvol_lib (cli/commands.h), which the tests link too.
#include <cstdio>
#include <string>
#include <vector>

#include "common/flags.h"
#include "volume-plugin/cli/commands.h"

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
             --seccomp, --owner, --cap-drop, --memory, --cpus, --pids-limit,
             --timeout)
  help       print this text

settings (environment): DEFAULT_SIZE (20G), MAX_SIZE (1T), POOL_WARNING (10G),
POOL_CRITICAL (1G; formerly POOL_RESERVE), MOUNT_TIMEOUT seconds (25),
POOL auto|reflink|copy (auto), POOL_SIZE (100G),
DEFAULT_FROM (none), DEFAULT_OWNER UID:GID (none),
DEFAULT_IDMAP CONTAINER:HOST:COUNT (none), FREEZE_TIMEOUT seconds (10),
LOG_LEVEL (info).
See docs/helixvol.md.
)";

}  // namespace

int main(int argc, char** argv) {
  using helix::vol::Fail;
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
  const std::vector<std::string> rest(args.begin() + 2, args.end());
  if (command == "preload") return helix::vol::PreloadCommand(rest);
  std::vector<helix::Flags::Spec> specs = {{"--socket", helix::vol::kDefaultSocket}};
  if (command == "serve") {
    specs.push_back({"--state-dir", helix::vol::kDefaultStateDir});
    specs.push_back({"--mount-root", ""});
  } else if (command == "release") {
    specs.push_back({"--id", ""});
  } else {
    return Fail("unknown command \"" + command + "\", see helixvol help");
  }
  helix::Flags flags(specs, /*positional=*/true);
  if (auto s = flags.Parse(rest); !s.ok()) return Fail(s.error().message());
  if (command == "serve") {
    if (!flags.positional().empty()) {
      return Fail("serve takes no arguments, got \"" + flags.positional()[0] + "\"");
    }
    return helix::vol::ServeCommand(flags);
  }
  return helix::vol::ReleaseCommand(flags);
}
