// `helixvol preload` arguments: every flag checked before anything is made.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/flags.h"
#include "common/json_compact.h"
#include "common/quote.h"
#include "common/size.h"
#include "volume-plugin/domain/create_options.h"
#include "volume-plugin/tools/preload.h"

namespace helix::vol {
namespace {

Error BadFlag(const std::string& flag, const std::string& value, const std::string& why) {
  return InvalidArgument("preload: " + flag + " " + Quote(value) + ": " + why);
}

// "2", "0.5", "1.25" -> nano-CPUs; what `docker run --cpus` takes.
Result<uint64_t> ParseCpus(const std::string& text) {
  uint64_t whole = 0, frac = 0, scale = 1000000000;
  size_t i = 0;
  bool digits = false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, digits = true) {
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
    if (whole > 4096) return BadFlag("--cpus", text, "more than 4096 CPUs");
  }
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (scale == 1) return BadFlag("--cpus", text, "more than 9 decimals");
      scale /= 10;
      frac += static_cast<uint64_t>(text[i] - '0') * scale;
      digits = true;
    }
  }
  uint64_t nano = whole * 1000000000 + frac;
  if (!digits || i != text.size() || nano == 0) {
    return BadFlag("--cpus", text, "not a positive number of CPUs (examples: 2, 0.5)");
  }
  return nano;
}

// An image reference or ID as the engine spells them; anything else could not
// name an image and would have to be escaped in the API's paths.
bool IsImageReference(const std::string& ref) {
  if (ref.empty() || ref.size() > 512) return false;
  for (char c : ref) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' &&
        c != '/' && c != ':' && c != '@') {
      return false;
    }
  }
  return ref.front() != '/' && ref.find("..") == std::string::npos;
}

bool IsCapabilityName(const std::string& cap) {
  if (cap.empty()) return false;
  for (char c : cap) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

Result<PreloadOptions> ParsePreloadArgs(const std::vector<std::string>& args,
                                        const std::string& docker_host_env) {
  PreloadOptions o;
  o.host = docker_host_env.empty() ? "unix:///var/run/docker.sock" : docker_host_env;
  std::string shape = "privileged";
  Flags flags({{"--name"},
               {"--engine-image"},
               {"--image"},
               {"--archive"},
               {"--host"},
               {"--source-host"},
               {"--driver"},
               {"--size"},
               {"--label"},
               {"--shape"},
               {"--seccomp"},
               {"--owner"},
               {"--cap-drop"},
               {"--memory"},
               {"--cpus"},
               {"--pids-limit"},
               {"--timeout"}},
              /*positional=*/false, "preload: ", ", see helixvol help");
  flags.OnUnexpected(" (images go after --image, archives after --archive)");
  HELIX_TRY(flags.Parse(args));
  // In the order given: --image and --archive are loaded in that order.
  for (const auto& [flag, value] : flags.given()) {
    if (flag == "--name") {
      o.name = value;
    } else if (flag == "--engine-image") {
      if (!IsImageReference(value)) return BadFlag(flag, value, "not an image reference");
      o.engine_image = value;
    } else if (flag == "--image") {
      if (!IsImageReference(value)) return BadFlag(flag, value, "not an image reference");
      o.sources.push_back({PreloadSource::Kind::kImage, value});
    } else if (flag == "--archive") {
      if (::access(value.c_str(), R_OK) != 0) {
        return BadFlag(flag, value, std::string("cannot be read: ") + std::strerror(errno));
      }
      o.sources.push_back({PreloadSource::Kind::kArchive, value});
    } else if (flag == "--host") {
      o.host = value;
    } else if (flag == "--source-host") {
      o.source_host = value;
    } else if (flag == "--driver") {
      if (value.empty()) return BadFlag(flag, value, "a volume driver name is needed");
      o.driver = value;
    } else if (flag == "--size") {
      auto size = ParseSize(value);
      if (!size.ok()) return BadFlag(flag, value, size.error().message());
      o.size = value;
    } else if (flag == "--label") {
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return BadFlag(flag, value, "want KEY=VALUE");
      o.labels[value.substr(0, eq)] = value.substr(eq + 1);
    } else if (flag == "--shape") {
      if (value != "privileged" && value != "equivalent" && value != "userns") {
        return BadFlag(flag, value, "want privileged, equivalent or userns");
      }
      shape = value;
    } else if (flag == "--seccomp") {
      auto text = ReadFile(value);
      if (!text.ok()) {
        return BadFlag(flag, value,
                       std::string("cannot be read: ") + std::strerror(text.error().sys_errno()));
      }
      auto compact = CompactJson(*text);
      if (!compact || !nlohmann::json::accept(*compact)) {
        return BadFlag(flag, value, "not a JSON seccomp profile");
      }
      o.seccomp = *compact;
    } else if (flag == "--owner") {
      if (auto owner = ParseOwner(value); !owner.ok()) {
        return BadFlag(flag, value, owner.error().message());
      }
      o.owner = value;
    } else if (flag == "--cap-drop") {
      if (!IsCapabilityName(value)) return BadFlag(flag, value, "not a capability name");
      o.cap_drop.push_back(value);
    } else if (flag == "--memory") {
      auto size = ParseSize(value);
      if (!size.ok()) return BadFlag(flag, value, size.error().message());
      o.memory = *size;
    } else if (flag == "--cpus") {
      HELIX_ASSIGN_OR_RETURN(o.nano_cpus, ParseCpus(value));
    } else if (flag == "--pids-limit" || flag == "--timeout") {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || errno != 0 || n <= 0 || n > (1LL << 31)) {
        return BadFlag(flag, value, "not a positive whole number");
      }
      if (flag == "--timeout") {
        o.timeout_seconds = static_cast<unsigned>(n);
      } else {
        o.pids_limit = n;
      }
    }
  }
  if (o.name.empty()) return InvalidArgument("preload: --name (the snapshot to make) is required");
  if (auto s = ValidateName(o.name); !s.ok()) return s.error().Wrap("preload: --name");
  if (o.engine_image.empty()) {
    return InvalidArgument("preload: --engine-image (the desktop's engine image) is required");
  }
  if (o.sources.empty()) {
    return InvalidArgument("preload: nothing to load: give at least one --image or --archive");
  }
  o.privileged = shape == "privileged";
  o.userns = shape == "userns";
  if (o.userns && o.seccomp.empty()) {
    return InvalidArgument(
        "preload: --shape userns needs --seccomp FILE, the desktops' seccomp profile "
        "(contrib/userns-desktop/seccomp-userns.json)");
  }
  if (o.userns && o.owner.empty()) {
    return InvalidArgument(
        "preload: --shape userns needs --owner UID:GID, the first uid and gid of the engine's "
        "userns-remap range");
  }
  if (!o.userns && !o.seccomp.empty()) {
    return InvalidArgument("preload: --seccomp needs --shape userns");
  }
  if (o.privileged && !o.cap_drop.empty()) {
    return InvalidArgument("preload: --cap-drop needs --shape equivalent");
  }
  auto host = DockerClient::SocketFromHost(o.host);
  if (!host.ok()) return host.error().Wrap("preload: --host");
  if (!o.source_host.empty()) {
    auto source = DockerClient::SocketFromHost(o.source_host);
    if (!source.ok()) return source.error().Wrap("preload: --source-host");
  }
  return o;
}

}  // namespace helix::vol
