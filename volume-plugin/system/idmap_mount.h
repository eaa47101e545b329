// Idmapped mounts (`-o idmap`): a volume's data/ seen through an id mapping,
// so files stored as uid 0 appear as the desktop's remapped root (100000,
// say) and what that root writes is stored as 0. One data root, or one golden
// root and its clones, then serves desktops of any userns-remap range.
//
// The mapping rides on a user namespace made for the purpose (the kernel
// takes the mapping from a user namespace's uid_map and gid_map); the mount
// is a clone of data/ (open_tree), given the mapping (mount_setattr with
// MOUNT_ATTR_IDMAP) and stacked on data/ itself (move_mount). Needs Linux 5.12
// and a filesystem that supports it (ext4 does).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace helix::vol {

// One line of a mapping: ids `inside` .. `inside + count - 1`, as stored on
// disk, appear as `outside` .. through the mount.
struct IdRange {
  uint32_t inside = 0;
  uint32_t outside = 0;
  uint32_t count = 0;
};

// A uid or gid in decimal, below 4294967295 ((uid_t)-1, which chown reads
// as "unchanged" and an id map cannot hold); nullopt when it is not one.
std::optional<uint32_t> ParseId(std::string_view digits);

// "CONTAINER:HOST:COUNT[,CONTAINER:HOST:COUNT...]" (as "0:100000:65536"),
// for uids and gids alike. Ranges must not overlap on either side and stay
// below 2^32 - 1. The error says what is wrong; callers name the option.
Result<std::vector<IdRange>> ParseIdmap(std::string_view text);

// A user namespace whose uid_map and gid_map are `ranges`, as an fd
// (/proc/<pid>/ns/user of a short-lived child that made it).
Result<UniqueFd> MakeIdmapUserNamespace(const std::vector<IdRange>& ranges);

// Stacks an idmapped clone of the mount at `path` (its subtree at `path`)
// on `path` itself. ENOSYS, EINVAL or EPERM from the kernel come back as an
// error that says idmapped mounts are not supported here.
Status IdmapBind(const std::string& path, const std::vector<IdRange>& ranges);

}  // namespace helix::vol
