// Settings read from the environment. Managed plugins receive their settings
// (`docker plugin set helixvol DEFAULT_SIZE=50G`) as environment variables,
// and host services get them from their unit file, so one code path serves
// both. Every value is validated before the plugin starts; a bad one stops
// start-up with a message naming the variable and the value.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace helix {

class Environment {
 public:
  // A snapshot of this process's environment.
  static Environment FromProcess();
  explicit Environment(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}

  // The variable's value; unset and empty both count as absent.
  std::optional<std::string> Get(const std::string& name) const;

  // Typed readers: absent gives the fallback, a malformed value an error like
  // setting DEFAULT_SIZE="abc": size "abc" is not a size (...)
  Result<std::string> String(const std::string& name, const std::string& fallback) const;
  Result<uint64_t> Size(const std::string& name, const std::string& fallback) const;
  Result<bool> Bool(const std::string& name, bool fallback) const;
  Result<uint64_t> Unsigned(const std::string& name, uint64_t fallback) const;
  // One of `choices`, else an error listing them.
  Result<std::string> Choice(const std::string& name, const std::vector<std::string>& choices,
                             const std::string& fallback) const;

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace helix
