// RunPreload: see preload.h for the flow and why it is shaped this way.
#include "volume-plugin/tools/preload.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include "common/file_util.h"

#include "common/quote.h"
#include "common/size.h"
#include "common/strings.h"
#include "common/unique_fd.h"

namespace helix::vol {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kStageDir = "/helix-preload";

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// What the run has made, removed in reverse unless Keep() was called.
class Leftovers {
 public:
  explicit Leftovers(const DockerClient& engine, const ProgressFn& progress)
      : engine_(engine), progress_(progress) {}
  ~Leftovers() { Clean(); }
  void AddContainer(const std::string& id) { containers_.push_back(id); }
  void DropContainer(const std::string& id) { std::erase(containers_, id); }
  void AddVolume(const std::string& name) { volumes_.push_back(name); }
  void DropVolume(const std::string& name) { std::erase(volumes_, name); }

  // Removes everything still listed; failures are reported, not fatal.
  void Clean() {
    for (auto it = containers_.rbegin(); it != containers_.rend(); ++it) {
      if (auto s = engine_.Delete("/containers/" + *it + "?force=1&v=1"); !s.ok()) {
        progress_("cleanup: " + s.error().message());
      }
    }
    containers_.clear();
    for (auto it = volumes_.rbegin(); it != volumes_.rend(); ++it) {
      // A volume can stay busy for a moment after its container went.
      Status s = Ok();
      for (int attempt = 0; attempt < 20; ++attempt) {
        s = engine_.Delete("/volumes/" + *it);
        if (s.ok() || s.error().kind() == ErrorKind::kNotFound) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
      }
      if (!s.ok() && s.error().kind() != ErrorKind::kNotFound) {
        progress_("cleanup: " + s.error().message());
      }
    }
    volumes_.clear();
  }

 private:
  const DockerClient& engine_;
  const ProgressFn& progress_;
  std::vector<std::string> containers_;
  std::vector<std::string> volumes_;
};

class Run {
 public:
  Run(const PreloadOptions& o, const DockerClient& engine, const DockerClient& source,
      const ProgressFn& progress, const std::atomic<bool>& interrupted)
      : o_(o),
        engine_(engine),
        source_(source),
        progress_(progress),
        interrupted_(interrupted),
        id_(RandomHex(12)),
        made_(engine, progress) {}

  Status Go() {
    auto start = Clock::now();
    HELIX_TRY(Check());
    const std::string root = "helixvol-preload-" + id_;
    const std::string stage = root + "-stage";
    json root_opts = {{"from", ""}};
    if (!o_.size.empty()) root_opts["size"] = o_.size;
    if (!o_.owner.empty()) root_opts["owner"] = o_.owner;
    HELIX_TRY(CreateVolume(root, o_.driver, root_opts));
    HELIX_TRY(CreateVolume(stage, "local", json::object()));
    uint64_t total = 0;
    for (size_t i = 0; i < o_.sources.size(); ++i) {
      HELIX_ASSIGN_OR_RETURN(uint64_t bytes, Stage(i, stage));
      total += bytes;
    }
    HELIX_TRY(Load(root, stage));
    progress_("sealing: docker volume create -d " + o_.driver + " -o from=" + root +
              " -o snapshot=true " + o_.name);
    HELIX_TRY(CreateVolume(o_.name, o_.driver, {{"from", root}, {"snapshot", "true"}}));
    made_.DropVolume(o_.name);  // from here on the snapshot is the result
    made_.Clean();
    char line[160];
    std::snprintf(line, sizeof(line),
                  "done: snapshot \"%s\" holds %zu image archive(s), %s, in %.1f s",
                  o_.name.c_str(), o_.sources.size(), FormatSize(total).c_str(), Seconds(start));
    progress_(line);
    return Ok();
  }

 private:
  // Everything that can be known before making anything.
  Status Check() {
    auto image = engine_.Get("/images/" + o_.engine_image + "/json");
    if (!image.ok()) return image.error().Wrap("preload: --engine-image " + Quote(o_.engine_image));
    engine_image_id_ = image->value("Id", "");
    for (const auto& s : o_.sources) {
      if (s.kind == PreloadSource::Kind::kImage) {
        auto found = source_.Get("/images/" + s.ref + "/json");
        if (!found.ok()) return found.error().Wrap("preload: --image " + Quote(s.ref));
      } else {
        struct stat st;
        if (::stat(s.ref.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
          return InvalidArgument("preload: --archive " + Quote(s.ref) + ": not a regular file");
        }
      }
    }
    auto existing = engine_.Get("/volumes/" + o_.name);
    if (existing.ok()) {
      return AlreadyExists("preload: --name " + Quote(o_.name) + ": a volume of that name exists");
    }
    if (existing.error().kind() != ErrorKind::kNotFound) return existing.error().Wrap("preload");
    progress_("preload " + Quote(o_.name) + ": engine image " + o_.engine_image + " (" +
              engine_image_id_.substr(0, 19) + "), run " + id_);
    return Ok();
  }

  // Volumes carry the run's labels too: a policy that ties a desktop to its
  // data root by label (helixauthz's data_root_labels) then admits the
  // loading container on the working root it made.
  Status CreateVolume(const std::string& name, const std::string& driver, const json& opts) {
    auto made = engine_.Post(
        "/volumes/create",
        {{"Name", name}, {"Driver", driver}, {"DriverOpts", opts}, {"Labels", Labels()}});
    if (!made.ok()) return made.error().Wrap("preload: create volume " + Quote(name));
    made_.AddVolume(name);
    return Ok();
  }

  json Labels() const {
    json labels = o_.labels;
    labels["io.helix.preload"] = id_;
    return labels;
  }

  Result<std::string> CreateContainer(const std::string& name, const json& config) {
    auto made = engine_.Post("/containers/create?name=" + name, config);
    if (!made.ok()) return made.error().Wrap("preload: create container " + Quote(name));
    std::string id = made->value("Id", "");
    made_.AddContainer(id);
    return id;
  }

  // Copies source i into the staging volume as NN.tar through an ordinary
  // container whose stdin is attached; returns the bytes streamed.
  Result<uint64_t> Stage(size_t i, const std::string& stage) {
    const PreloadSource& s = o_.sources[i];
    char file[16];
    std::snprintf(file, sizeof(file), "%02zu.tar", i + 1);
    const std::string what =
        std::string(s.kind == PreloadSource::Kind::kImage ? "image " : "archive ") + s.ref;
    const std::string counter =
        "[" + std::to_string(i + 1) + "/" + std::to_string(o_.sources.size()) + "] ";
    json config = {
        {"Image", engine_image_id_},
        {"Entrypoint", {"sh", "-c", std::string("cat > \"") + kStageDir + "/$0\""}},
        {"Cmd", {file}},
        {"AttachStdin", true},
        {"OpenStdin", true},
        {"StdinOnce", true},
        {"NetworkDisabled", true},
        {"Labels", Labels()},
        {"HostConfig",
         {{"NetworkMode", "none"},
          {"Mounts", {{{"Type", "volume"}, {"Source", stage}, {"Target", kStageDir}}}}}}};
    auto id =
        CreateContainer("helixvol-preload-" + id_ + "-stage-" + std::to_string(i + 1), config);
    if (!id.ok()) return id.error();
    auto stdin_fd = engine_.Hijack("/containers/" + *id + "/attach?stream=1&stdin=1");
    if (!stdin_fd.ok()) return stdin_fd.error().Wrap("preload: attach to the staging container");
    if (auto r = engine_.Post("/containers/" + *id + "/start"); !r.ok()) {
      return r.error().Wrap("preload: start the staging container");
    }
    auto start = Clock::now();
    uint64_t bytes = 0, reported = 0;
    bool broken = false;
    auto sink = [&](const char* data, size_t size) {
      if (interrupted_ ||
          !WriteAll(stdin_fd->get(), std::string_view(data, size), "attach stream").ok()) {
        broken = true;
        return false;
      }
      bytes += size;
      if (bytes - reported >= (256u << 20)) {
        reported = bytes;
        progress_(counter + what + ": " + FormatSize(bytes) + " ...");
      }
      return true;
    };
    Status streamed = Ok();
    if (s.kind == PreloadSource::Kind::kImage) {
      streamed = source_.GetStream("/images/get?names=" + DockerClient::QueryEscape(s.ref), sink);
    } else {
      UniqueFd in(::open(s.ref.c_str(), O_RDONLY | O_CLOEXEC));
      if (!in.valid()) return HELIX_SYS_ERROR("preload: open " + s.ref);
      std::vector<char> buf(1 << 20);
      for (;;) {
        ssize_t n = ::read(in.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return HELIX_SYS_ERROR("preload: read " + s.ref);
        if (n == 0 || !sink(buf.data(), static_cast<size_t>(n))) break;
      }
    }
    ::shutdown(stdin_fd->get(), SHUT_WR);  // end of stdin: cat finishes
    if (interrupted_) return Error(ErrorKind::kSystem, "preload: interrupted");
    if (!streamed.ok()) return streamed.error().Wrap("preload: " + what);
    if (broken)
      return Error(ErrorKind::kSystem,
                   "preload: " + what + ": the staging container stopped reading");
    auto code = WaitExit(*id, 300);
    if (!code.ok()) return code.error().Wrap("preload: staging " + what);
    if (*code != 0) {
      return Error(ErrorKind::kSystem,
                   "preload: staging " + what + ": the staging container exited with code " +
                       std::to_string(*code) + " (is the staging volume full?)");
    }
    double secs = Seconds(start);
    char rate[48];
    std::snprintf(rate, sizeof(rate), " in %.1f s", secs);
    progress_(counter + what + ": " + FormatSize(bytes) + " staged" + rate);
    if (auto r = engine_.Delete("/containers/" + *id + "?v=1"); r.ok()) made_.DropContainer(*id);
    return bytes;
  }

  // Polls until the container has stopped; returns its exit code.
  Result<int> WaitExit(const std::string& id, unsigned timeout_seconds) {
    auto start = Clock::now();
    for (;;) {
      auto state = engine_.Get("/containers/" + id + "/json");
      if (!state.ok()) return state.error();
      const json& st = (*state)["State"];
      if (!st.value("Running", false) && st.value("Status", "") != "created") {
        return st.value("ExitCode", -1);
      }
      if (interrupted_) return Error(ErrorKind::kSystem, "interrupted");
      if (Seconds(start) > timeout_seconds) {
        return Error(ErrorKind::kTimeout,
                     "still running after " + std::to_string(timeout_seconds) + " s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  json LoaderHostConfig(const std::string& root, const std::string& stage) const {
    json hc = {
        {"Mounts",
         {{{"Type", "volume"},
           {"Source", root},
           {"Target", "/var/lib/docker"},
           {"VolumeOptions", {{"DriverConfig", {{"Name", o_.driver}}}}}},
          {{"Type", "volume"}, {"Source", stage}, {"Target", kStageDir}, {"ReadOnly", true}}}}};
    if (o_.userns) {
      // What the docker CLI sends for the userns desktop's flags
      // (docs/userns-desktops.md): its capabilities, the pinned profile,
      // forwarding on.
      hc["CapAdd"] = {"SYS_ADMIN", "NET_ADMIN"};
      hc["SecurityOpt"] = {"seccomp=" + o_.seccomp, "apparmor=unconfined"};
      hc["Sysctls"] = {{"net.ipv4.ip_forward", "1"}};
    } else if (o_.privileged) {
      hc["Privileged"] = true;
    } else {
      // What the docker CLI sends for --cap-add ALL --security-opt
      // seccomp=unconfined,apparmor=unconfined,systempaths=unconfined
      // --device-cgroup-rule 'a *:* rwm': systempaths becomes empty path lists.
      hc["CapAdd"] = {"ALL"};
      hc["CapDrop"] = o_.cap_drop;
      hc["SecurityOpt"] = {"seccomp=unconfined", "apparmor=unconfined"};
      hc["MaskedPaths"] = json::array();
      hc["ReadonlyPaths"] = json::array();
      hc["DeviceCgroupRules"] = {"a *:* rwm"};
    }
    if (o_.memory) hc["Memory"] = o_.memory;
    if (o_.nano_cpus) hc["NanoCpus"] = o_.nano_cpus;
    if (o_.pids_limit) hc["PidsLimit"] = o_.pids_limit;
    return hc;
  }

  // Runs the engine image in preload mode and relays its output.
  Status Load(const std::string& root, const std::string& stage) {
    json config = {{"Image", engine_image_id_},
                   {"Env", {std::string("HELIX_PRELOAD=") + kStageDir}},
                   {"Labels", Labels()},
                   {"HostConfig", LoaderHostConfig(root, stage)}};
    auto id = CreateContainer("helixvol-preload-" + id_ + "-load", config);
    if (!id.ok()) return id.error();
    progress_("loading: the engine image loads the archives into its own engine");
    auto start = Clock::now();
    if (auto r = engine_.Post("/containers/" + *id + "/start"); !r.ok()) {
      return r.error().Wrap("preload: start the loading container");
    }
    std::string pending, tail;
    // The logs are framed (8-byte header: stream, 0, 0, 0, big-endian size).
    auto sink = [&](const char* data, size_t size) {
      pending.append(data, size);
      size_t at = 0;
      while (pending.size() - at >= 8) {
        auto* h = reinterpret_cast<const unsigned char*>(pending.data() + at);
        size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
        if (pending.size() - at - 8 < len) break;
        std::string chunk = pending.substr(at + 8, len);
        at += 8 + len;
        size_t nl;
        tail += chunk;
        while ((nl = tail.find('\n')) != std::string::npos) {
          progress_("  | " + tail.substr(0, nl));
          tail.erase(0, nl + 1);
        }
      }
      pending.erase(0, at);
      return true;
    };
    // The logs are relayed from a thread while this one waits for the exit
    // and watches for an interrupt: a silent load of a big image may send
    // nothing for minutes. The stream ends when the container stops or is
    // removed, which the cleanup does on failure.
    std::thread relay([&] {
      Status logs =
          engine_.GetStream("/containers/" + *id + "/logs?follow=1&stdout=1&stderr=1", sink);
      if (!logs.ok()) {
        // The policy may not let anyone read a privileged container's logs:
        // then only the exit code tells.
        progress_("  (no output: " + logs.error().message() + ")");
      }
    });
    auto code = WaitExit(*id, o_.timeout_seconds);
    if (!code.ok()) {
      // Stop it now, so that the relay's stream ends.
      (void)engine_.Delete("/containers/" + *id + "?force=1&v=1");
    }
    relay.join();
    if (!code.ok()) return code.error().Wrap("preload: loading");
    if (*code != 0) {
      return Error(ErrorKind::kSystem,
                   "preload: the engine image's preload exited with code " + std::to_string(*code) +
                       " (does its entrypoint follow the HELIX_PRELOAD contract? see "
                       "docs/golden-data-roots.md)");
    }
    char line[64];
    std::snprintf(line, sizeof(line), "loaded in %.1f s", Seconds(start));
    progress_(line);
    if (auto r = engine_.Delete("/containers/" + *id + "?v=1"); !r.ok()) {
      return r.error().Wrap("preload: remove the loading container");
    }
    made_.DropContainer(*id);
    return Ok();
  }

  const PreloadOptions& o_;
  const DockerClient& engine_;
  const DockerClient& source_;
  const ProgressFn& progress_;
  const std::atomic<bool>& interrupted_;
  const std::string id_;
  std::string engine_image_id_;
  Leftovers made_;
};

}  // namespace

Status RunPreload(const PreloadOptions& options, const ProgressFn& progress,
                  const std::atomic<bool>& interrupted) {
  auto host = DockerClient::SocketFromHost(options.host);
  if (!host.ok()) return host.error();
  auto source_host = DockerClient::SocketFromHost(
      options.source_host.empty() ? options.host : options.source_host);
  if (!source_host.ok()) return source_host.error();
  DockerClient engine(*host), source(*source_host);
  Run run(options, engine, source, progress, interrupted);
  return run.Go();
}

}  // namespace helix::vol
