#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <memory>
#include <utility>

#include "common/quote.h"

namespace helix {
namespace {

constexpr std::array<std::pair<const char*, spdlog::level::level_enum>, 7> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"warning", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"off", spdlog::level::off},
}};

}  // namespace

Status InitLogging(const std::string& level) {
  std::string name = level.empty() ? "info" : level;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it =
      std::find_if(kLevels.begin(), kLevels.end(), [&](const auto& l) { return name == l.first; });
  if (it == kLevels.end()) {
    return InvalidArgument("setting LOG_LEVEL=" + Quote(level) +
                           ": must be one of trace, debug, info, warn, error, off");
  }
  // A plain stderr sink: no colour codes, since dockerd copies the stream
  // into its own log verbatim.
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("helix", std::move(sink));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  logger->set_level(it->second);
  logger->flush_on(spdlog::level::warn);
  // Replaces (and unregisters) the previous default, so calling this again
  // only swaps the logger.
  spdlog::set_default_logger(std::move(logger));
  return Ok();
}

}  // namespace helix
