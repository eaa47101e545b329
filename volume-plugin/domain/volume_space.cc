// The pool's free space as the volume manager reports and reserves against
// it: the least of every layer under the pool (pool_space.h), against the
// watermarks POOL_WARNING (logged, Status "warning") and POOL_CRITICAL
// (creates and clones refused).
#include "common/log.h"
#include "common/size.h"
#include "volume-plugin/domain/volume_manager.h"

namespace helix::vol {

std::string_view VolumeManager::SpaceLevel(uint64_t free_bytes) const {
  if (free_bytes < config_.pool_critical) {
    return "critical";
  }
  return free_bytes < config_.pool_warning ? "warning" : "ok";
}

Result<std::vector<LayerSpace>> VolumeManager::MeasurePool() {
  std::vector<SpaceLayer> layers = space_layers_;
  if (layers.empty()) {  // before Recover found them
    layers.push_back({PoolDir(), "the pool's filesystem " + PoolDir()});
  }
  auto measured = MeasureSpace(layers);
  if (!measured.ok()) {
    return measured.error();
  }
  const LayerSpace& least = Least(*measured);
  std::string_view level = SpaceLevel(least.free_bytes);
  std::lock_guard lock(space_mu_);
  if (level != space_level_) {
    std::string line = "pool space " + std::string(level) + ": " + FormatSize(least.free_bytes) +
                       " free on " + least.layer.what + " (POOL_WARNING " +
                       FormatSize(config_.pool_warning) + ", POOL_CRITICAL " +
                       FormatSize(config_.pool_critical) + ")";
    if (level == "critical") {
      spdlog::error("{}: creates are refused until space is freed", line);
    } else if (level == "warning") {
      spdlog::warn("{}", line);
    } else {
      spdlog::info("{}", line);
    }
    space_level_ = level;
  }
  return measured;
}

Status VolumeManager::RefuseIfCritical() {
  auto measured = MeasurePool();
  if (!measured.ok()) {
    return measured.error();
  }
  const LayerSpace& least = Least(*measured);
  if (least.free_bytes < config_.pool_critical) {
    return NoSpace(FormatSize(least.free_bytes) + " free on " + least.layer.what +
                   ", under POOL_CRITICAL (" + FormatSize(config_.pool_critical) +
                   "): creates are refused until space is freed there");
  }
  return Ok();
}

void VolumeManager::AddPoolStatus(nlohmann::json& status) {
  auto measured = MeasurePool();
  if (!measured.ok()) {
    status["pool_space"] = measured.error().message();
    return;
  }
  const LayerSpace& least = Least(*measured);
  status["pool_free_bytes"] = least.free_bytes;
  status["pool_space"] = std::string(SpaceLevel(least.free_bytes));
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerSpace& l : *measured) {
    layers.push_back(
        {{"path", l.layer.path}, {"free_bytes", l.free_bytes}, {"size_bytes", l.size_bytes}});
  }
  status["pool_layers"] = layers;
}

}  // namespace helix::vol
