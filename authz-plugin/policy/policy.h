// The helixauthz policy: what the sandbox engine's callers may ask of it.
// The schema is documented in docs/helixauthz-policy.md; this header is its
// in-memory form. A Policy is immutable once parsed and shared between
// request threads (std::shared_ptr<const Policy>), so a reload swaps the
// pointer and never changes a policy a decision is using.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace helix::authz {

// What one class of container (privileged desktops, ordinary containers) may
// ask for beyond Docker's defaults. Every list is an allowlist; empty allows
// nothing.
struct ClassRules {
  // Normalised like dockerd does: upper case, without the "CAP_" prefix;
  // "ALL" allows every capability.
  std::vector<std::string> capabilities;
  // Normalised "key=value" ("seccomp=unconfined", "no-new-privileges=true",
  // "label=disable"); see NormalizeSecurityOpt() in request_fields.h.
  std::vector<std::string> security_options;
  std::vector<std::string> device_cgroup_rules;  // exact strings ("a *:* rwm")
  std::vector<std::string> devices;              // Devices[].PathOnHost, exact
  bool device_requests = false;                  // DeviceRequests (GPUs)
  // Sysctl names; an entry ending in '*' matches by prefix ("net.ipv4.*").
  std::vector<std::string> sysctls;
  std::vector<std::string> runtimes;     // "" (the daemon default) always passes
  std::vector<std::string> log_drivers;  // "" (the daemon default) always passes
};

// A label a desktop must carry: any value ("*") or one of `values`.
struct RequiredLabel {
  bool any_value = false;
  std::vector<std::string> values;
};

// One desktop shape: what a container beyond the ordinary allowlists must
// look like to run. Two shapes exist: "privileged" (root on the host by
// construction) and "userns" (on an engine with userns-remap: root in its
// own user namespace, an unprivileged uid on the host). A shape with no
// images admits nothing.
struct DesktopRules {
  std::string name = "privileged";  // the shape, and the prefix of its rules
  // Image IDs ("sha256:<64 hex>") and repo digests ("repo@sha256:<64 hex>").
  // Only the digest of a repo digest counts: it names content, the repo
  // part does not.
  std::vector<std::string> image_ids;
  std::vector<std::string> image_digests;  // "sha256:<64 hex>" of repo digests
  std::string data_root = "/var/lib/docker";
  // Exact label keys.
  std::map<std::string, RequiredLabel> labels;
  // helixvol options the data root must have in effect ("idmap",
  // "owner"): a user-namespaced desktop needs its files owned by its
  // remapped root.
  std::map<std::string, std::string> data_root_options;
  // Label keys that tie a desktop to its data root: each must be on the
  // container and, with the same value, on the data root volume (labels the
  // engine keeps for it, set when it was created through the engine). A
  // data root that does not exist yet is made fresh by this very create.
  std::vector<std::string> data_root_labels;
  // A pattern the data root's name must match, with "{label}" replaced by
  // the container's value of that label and '*' matching any run of
  // characters ("session-{helix.session}"); "" for no pattern.
  std::string data_root_name;
  // Entrypoint, Cmd, User, WorkingDir and Healthcheck of a desktop must be
  // the image's own (absent, or equal to the image's): whatever a desktop
  // runs, runs as root on the host.
  bool pin_command = true;
  int64_t max_memory = 0;  // bytes; Memory must be set and at most this
  // bytes; MemorySwap (memory plus swap) at most this. 0 in the policy file
  // means twice max_memory, which is what dockerd gives a container that
  // sets Memory without MemorySwap.
  int64_t max_memory_swap = 0;
  int64_t max_nano_cpus = 0;  // NanoCpus (or CpuQuota/CpuPeriod) at most this
  int64_t max_pids = 0;       // PidsLimit must be set and at most this
  ClassRules allowed;
  // Other named volumes a desktop may mount: their drivers, and whether they
  // must be read-only. Host paths are governed by Rules::host_paths.
  std::vector<std::string> extra_volume_drivers;
  bool extra_volumes_read_only = true;
  bool exec = false;  // exec create on a desktop of this shape
  bool logs = true;   // GET logs, and attach without stdin

  bool enabled() const { return !image_ids.empty() || !image_digests.empty(); }
};

struct HelixvolRules {
  // Names dockerd knows the plugin by. These name the driver rather than
  // grant anything, so the built-in default already knows helixvol.
  std::vector<std::string> drivers = {"helixvol", "helixvol:latest"};
  int64_t max_size = 0;       // bytes; `size` at most this
  bool allow_shared = false;  // exclusive=false
  // `from` is allowed when the source is a snapshot, or its name matches
  // one of these patterns ('*' matches any run of characters).
  std::vector<std::string> from_patterns;
  // snapshot=true is allowed only from sources matching these patterns.
  std::vector<std::string> snapshot_from_patterns;
};

struct NetworkRules {
  std::vector<std::string> drivers;  // "" (bridge) always passes
  std::vector<std::string> options;  // allowed keys of Options
  // Address ranges ("10.210.0.0/16") that IPAM subnets, IP ranges, gateways
  // and auxiliary addresses of a new network must lie within; empty allows
  // none (a network without IPAM.Config gets the engine's own pools).
  std::vector<std::string> pools;
  bool ipv6 = false;  // EnableIPv6 (it switches on IPv6 forwarding on the host)
};

// A host address and port range that published ports may bind.
struct PortRule {
  // A literal address ("127.0.0.1", "::1"); "0.0.0.0" and "::" are every
  // address of the family, which is what a binding without HostIp gets.
  std::string host_ip;
  // Inclusive range; any_port ("*") also allows ports the engine picks.
  bool any_port = false;
  uint32_t first = 0, last = 0;
};

// Everything a decision depends on for one user.
struct Rules {
  bool image_management = false;            // build, commit, import, load, pull, push, tag, rmi
  std::vector<std::string> host_paths;      // allowed bind sources, by path prefix
  std::vector<std::string> volume_drivers;  // besides helixvol.drivers
  std::vector<PortRule> published_ports;    // PortBindings, PublishAllPorts
  DesktopRules privileged;
  DesktopRules userns = [] {
    DesktopRules d;
    d.name = "userns";
    return d;
  }();
  ClassRules ordinary;
  HelixvolRules helixvol;
  NetworkRules networks;
};

// "*" (any_port), "8080" or "8000-8999" into `rule`'s ports; false when
// `text` is none of these.
bool ParsePortRange(const std::string& text, PortRule* rule);

struct Policy {
  int version = 2;                     // 1: privileged desktops only; 2 adds the "userns" shape
  std::string source;                  // file name, for messages
  std::string min_api_version;         // "1.40"
  Rules rules;                         // for every user without an entry below
  std::map<std::string, Rules> users;  // TLS client CN -> rules

  // The rules for `user` ("" when the engine does not authenticate clients).
  const Rules& RulesFor(const std::string& user) const;
};

// Parses and validates a policy document. Unknown keys, wrong types and
// malformed values are errors that name the source, the line and the key:
//   policy.json:12: "privileged.images[0]": "foo" is not an image ID
//   (sha256:<64 hex>) or repo digest (name@sha256:<64 hex>)
// Keys left out take the documented defaults, which allow the least.
Result<std::shared_ptr<const Policy>> ParsePolicy(std::string_view text, std::string_view source);

// Reads `path` and parses it; `source` in messages is the path.
Result<std::shared_ptr<const Policy>> LoadPolicy(const std::string& path);

}  // namespace helix::authz
