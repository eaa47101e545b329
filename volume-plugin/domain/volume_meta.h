// meta.json: what helixvol knows about one volume that the kernel does not.
//
// Compatibility rule: `format` changes only when an older helixvol would
// misread the file. Readers ignore keys they do not know, so adding a key
// keeps the format; a file with a newer format is refused by name, never
// half-read.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/result.h"

namespace helix::vol {

inline constexpr int kMetaFormat = 1;

struct VolumeMeta {
  std::string name;
  uint64_t size_bytes = 0;
  std::string created_at;  // RFC 3339, UTC
  bool exclusive = true;
  std::map<std::string, std::string> options;  // as given at create
  std::string clone_source;                    // the volume this one was cloned from, if any
  std::string clone_method;                    // "reflink" or "copy" for clones
  bool snapshot = false;                       // immutable: mounted read-only
  std::string idmap;  // `-o idmap`: data/ is exposed through an idmapped mount
  std::string owner;  // "UID:GID" of data/, set at every mount; empty: as made (root)
  // Mount references by dockerd's mount ID. Saved so that a restarted plugin
  // still knows which containers hold the volume.
  std::map<std::string, int> mount_refs;

  int References() const;
};

std::string MetaToJson(const VolumeMeta& meta);

// `origin` names the file in error messages.
Result<VolumeMeta> MetaFromJson(const std::string& text, const std::string& origin);

// Now, as RFC 3339 in UTC ("2026-11-30T08:49:43Z"): dockerd parses CreatedAt
// with time.RFC3339.
std::string NowRfc3339();

}  // namespace helix::vol
