// The rules of mount references, as pure functions of a volume's meta.json:
// who may mount, how references count, when the filesystem goes. dockerd
// sends one Mount and one Unmount per container mount point, each with its
// mount ID; the same ID mounting again (`docker cp` does) adds a reference.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "volume-plugin/domain/volume_meta.h"

namespace helix::vol {

// The first 12 characters of a mount ID, as logs and messages show it.
std::string ShortId(const std::string& id);

// Whether mount ID `id` may take a reference: a data root is exclusive
// (two Docker engines on one data root corrupt it) unless created with
// exclusive=false; many containers may share a snapshot, since nobody can
// write to it. Busy, with `context` in front, when it may not.
Status CheckMayMount(const VolumeMeta& meta, const std::string& id, const std::string& context);

// One more reference for `id`.
void AddReference(VolumeMeta& meta, const std::string& id);

// One reference of `id` less; false when `id` holds none.
bool DropReference(VolumeMeta& meta, const std::string& id);

// Drops every reference of `id`, or every reference of anyone when `id` is
// empty, and returns the IDs dropped; empty when `id` held none.
std::vector<std::string> ReleaseReferences(VolumeMeta& meta, const std::string& id);

// Whether the filesystem should be unmounted: it is mounted and nobody holds
// a reference any more.
bool ShouldUnmount(const VolumeMeta& meta, bool mounted);

}  // namespace helix::vol
