// What a user may say when creating a volume: its name and its `-o` options.
// Everything here is pure validation, done before any side effect, and every
// message names the field and quotes the value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
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
  uint64_t size = 0;        // bytes, a multiple of 4096
  bool size_given = false;  // a clone without `size` takes its source's
  bool exclusive = true;
  // Clone source; nullopt when `from` was not given (DEFAULT_FROM may then
  // apply), "" when given empty (opting out of DEFAULT_FROM).
  std::optional<std::string> from;
  bool snapshot = false;
  // Owner of the volume's data/ directory, "UID:GID"; nullopt when `owner`
  // was not given (DEFAULT_OWNER, else a clone source's owner, may then
  // apply), "" when given empty (root, as without the option).
  std::optional<std::string> owner;
  // `idmap`, "CONTAINER:HOST:COUNT[,...]": data/ is exposed through an
  // idmapped mount; nullopt when not given (DEFAULT_IDMAP, else a clone
  // source's, may then apply), "" when given empty (none).
  std::optional<std::string> idmap;
  // The options exactly as given, kept in meta.json and shown by inspect.
  std::map<std::string, std::string> given;

  bool operator==(const CreateOptions&) const = default;
};

// Whether `name` is one dockerd makes up for an anonymous volume (an image's
// VOLUME line, `-v /path`): 64 lowercase hex digits. DEFAULT_FROM does not
// apply to these: a golden data root's content must not appear silently in
// every anonymous volume of a container started with --volume-driver.
bool IsAnonymousName(std::string_view name);

// "invalid option key="value": why", the shape of every option error.
Error BadOption(const std::string& key, const std::string& value, const std::string& why);

struct Owner {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// "UID:GID" in decimal (as "100000:100000"), each below 4294967295 (which
// chown reads as "leave unchanged"). The error says what is wrong with
// `text`; callers name the option or setting it came from.
Result<Owner> ParseOwner(std::string_view text);

// Parses the `-o key=value` map dockerd passes in Create's Opts.
Result<CreateOptions> ParseCreateOptions(const std::map<std::string, std::string>& opts,
                                         const SizeLimits& limits);

}  // namespace helix::vol
