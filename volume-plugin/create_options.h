// What a user may say when creating a volume: its name and its `-o` options.
// Everything here is pure validation, done before any side effect, and every
// message names the field and quotes the value.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace helix::vol {

// The smallest filesystem mkfs.ext4 makes with a journal, rounded up.
inline constexpr uint64_t kMinVolumeSize = 16ull << 20;
// Volume names become directory names: one path component at most.
inline constexpr size_t kMaxNameLength = 255;

// Docker's volume name rule, [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 255 bytes.
// The rule keeps every name inside the pool: no '/', no leading '.', no NUL.
Status ValidateName(std::string_view name);

struct SizeLimits {
  uint64_t default_size;  // DEFAULT_SIZE
  uint64_t max_size;      // MAX_SIZE
};

struct CreateOptions {
  uint64_t size = 0;  // bytes, a multiple of 4096
  bool exclusive = true;
  // The options exactly as given, kept in meta.json and shown by inspect.
  std::map<std::string, std::string> given;

  bool operator==(const CreateOptions&) const = default;
};

// Parses the `-o key=value` map dockerd passes in Create's Opts.
Result<CreateOptions> ParseCreateOptions(const std::map<std::string, std::string>& opts,
                                         const SizeLimits& limits);

}  // namespace helix::vol
