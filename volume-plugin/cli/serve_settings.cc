// The settings of `helixvol serve`, from the environment (serve_settings.h).
#include "volume-plugin/cli/serve_settings.h"

#include "common/size.h"
#include "volume-plugin/domain/create_options.h"
#include "volume-plugin/system/idmap_mount.h"

namespace helix::vol {
namespace {

// POOL_CRITICAL, or POOL_RESERVE, its name before there were two watermarks.
Result<uint64_t> CriticalWatermark(const Environment& env) {
  auto critical = env.Get("POOL_CRITICAL");
  auto reserve = env.Get("POOL_RESERVE");
  if (critical && reserve && *critical != *reserve) {
    return InvalidArgument("setting POOL_RESERVE=\"" + *reserve +
                           "\" is the old name of POOL_CRITICAL=\"" + *critical +
                           "\"; set only POOL_CRITICAL");
  }
  return env.Size(critical || !reserve ? "POOL_CRITICAL" : "POOL_RESERVE", "1G");
}

}  // namespace

Result<ServeSettings> ReadServeSettings(const Environment& env, const std::string& state_dir,
                                        const std::string& mount_root) {
  ServeSettings s;
  ManagerConfig& m = s.manager;
  m.state_dir = state_dir;
  m.mount_root = mount_root.empty() ? state_dir + "/mounts" : mount_root;
#define HELIX_SETTING(target, read) \
  do {                              \
    auto value_ = (read);           \
    if (!value_.ok()) {             \
      return value_.error();        \
    }                               \
    target = std::move(*value_);    \
  } while (0)
  HELIX_SETTING(s.log_level, env.String("LOG_LEVEL", "info"));
  HELIX_SETTING(s.fault_point, env.String("HELIXVOL_FAULT_POINT", ""));
  HELIX_SETTING(m.default_size, env.Size("DEFAULT_SIZE", "20G"));
  HELIX_SETTING(m.max_size, env.Size("MAX_SIZE", "1T"));
  HELIX_SETTING(m.pool_critical, CriticalWatermark(env));
  HELIX_SETTING(m.pool_warning, env.Size("POOL_WARNING", "10G"));
  uint64_t mount_timeout = 0;
  uint64_t freeze_timeout = 0;
  HELIX_SETTING(mount_timeout, env.Unsigned("MOUNT_TIMEOUT", 25));
  HELIX_SETTING(freeze_timeout, env.Unsigned("FREEZE_TIMEOUT", 10));
  HELIX_SETTING(m.default_from, env.String("DEFAULT_FROM", ""));
  HELIX_SETTING(m.default_owner, env.String("DEFAULT_OWNER", ""));
  HELIX_SETTING(m.default_idmap, env.String("DEFAULT_IDMAP", ""));
  HELIX_SETTING(s.pool.mode, env.Choice("POOL", {"auto", "reflink", "copy"}, "auto"));
  HELIX_SETTING(s.pool.self_managed_size, env.Size("POOL_SIZE", "100G"));
#undef HELIX_SETTING
  m.mount_timeout = std::chrono::seconds(mount_timeout);
  m.freeze_timeout = std::chrono::seconds(freeze_timeout);
  s.pool.state_dir = state_dir;
  if (!m.default_from.empty()) {
    if (auto v = ValidateName(m.default_from); !v.ok()) {
      return InvalidArgument("setting DEFAULT_FROM=\"" + m.default_from +
                             "\": " + v.error().message());
    }
  }
  if (!m.default_owner.empty()) {
    if (auto o = ParseOwner(m.default_owner); !o.ok()) {
      return InvalidArgument("setting DEFAULT_OWNER=\"" + m.default_owner +
                             "\": " + o.error().message());
    }
  }
  if (!m.default_idmap.empty()) {
    if (auto i = ParseIdmap(m.default_idmap); !i.ok()) {
      return InvalidArgument("setting DEFAULT_IDMAP=\"" + m.default_idmap +
                             "\": " + i.error().message());
    }
  }
  if (m.default_size > m.max_size) {
    return InvalidArgument("setting DEFAULT_SIZE=" + *env.Get("DEFAULT_SIZE") +
                           " is larger than MAX_SIZE");
  }
  if (m.pool_warning < m.pool_critical) {
    return InvalidArgument("setting POOL_WARNING=" + FormatSize(m.pool_warning) +
                           " is under POOL_CRITICAL=" + FormatSize(m.pool_critical) +
                           ": the warning must come before creates are refused");
  }
  return s;
}

}  // namespace helix::vol
