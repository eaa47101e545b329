// The pool's layout on disk, as pure functions of the pool and mount-root
// directories: the one place that spells a volume's file names. Nothing here
// touches the disk.
//
//   <pool>/<name>/disk.img    sparse ext4 image
//   <pool>/<name>/meta.json   VolumeMeta, written atomically; a crash in the
//                             middle leaves .meta.json.tmp-<random> beside it
//   <pool>/.tmp-<random>/     a volume being made; renamed to <name> when whole
//   <pool>/.tmp-rm-<random>/  a volume being removed
//   <mount-root>/<name>/      where the volume's filesystem is mounted
//   <mount-root>/<name>/data  what dockerd gets, so that ext4's lost+found
//                             never makes a fresh volume look non-empty
// Staging names (.tmp-) are never volumes: recovery deletes what a crash left.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace helix::vol {

class PoolLayout {
 public:
  PoolLayout(std::string pool_dir, std::string mount_root)
      : pool_dir_(std::move(pool_dir)), mount_root_(std::move(mount_root)) {}

  const std::string& pool_dir() const { return pool_dir_; }
  const std::string& mount_root() const { return mount_root_; }

  std::string VolumeDir(const std::string& name) const;
  std::string ImagePath(const std::string& name) const;
  std::string MetaPath(const std::string& name) const;
  std::string MountTarget(const std::string& name) const;
  std::string DataPath(const std::string& name) const;

  // A fresh staging directory for a volume being made, or being removed.
  std::string NewStagingDir() const;
  std::string NewRemovalDir() const;

  // The image and meta.json inside a volume's directory, wherever it is
  // (under its name or, while being made, under a staging name).
  static std::string ImageIn(const std::string& volume_dir);
  static std::string MetaIn(const std::string& volume_dir);
  static std::string DataIn(const std::string& mount_target);

  // Whether a pool entry is a staging directory (never a volume).
  static bool IsStaging(std::string_view entry);
  // Whether an entry of a volume's directory is a meta.json write that a
  // crash cut short.
  static bool IsMetaTemp(std::string_view entry);

 private:
  std::string pool_dir_;
  std::string mount_root_;
};

}  // namespace helix::vol
