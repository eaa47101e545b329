// The pool's layout: every name a volume's files have, from one place.
#include "volume-plugin/domain/pool_layout.h"

#include <catch2/catch.hpp>

using namespace helix::vol;

TEST_CASE("layout: a volume's files, mount point and data path", "[layout]") {
  PoolLayout l("/state/volumes", "/mnt");
  CHECK(l.VolumeDir("s1") == "/state/volumes/s1");
  CHECK(l.ImagePath("s1") == "/state/volumes/s1/disk.img");
  CHECK(l.MetaPath("s1") == "/state/volumes/s1/meta.json");
  CHECK(l.MountTarget("s1") == "/mnt/s1");
  CHECK(l.DataPath("s1") == "/mnt/s1/data");
  CHECK(PoolLayout::ImageIn("/state/volumes/.tmp-1") == "/state/volumes/.tmp-1/disk.img");
  CHECK(PoolLayout::MetaIn("/state/volumes/.tmp-1") == "/state/volumes/.tmp-1/meta.json");
}

TEST_CASE("layout: staging names are never volumes, and never repeat", "[layout]") {
  PoolLayout l("/p", "/m");
  std::string made = l.NewStagingDir();
  std::string doomed = l.NewRemovalDir();
  CHECK(made.rfind("/p/.tmp-", 0) == 0);
  CHECK(made.size() == std::string("/p/.tmp-").size() + 16);
  CHECK(doomed.rfind("/p/.tmp-rm-", 0) == 0);
  CHECK(made != l.NewStagingDir());
  CHECK(PoolLayout::IsStaging(made.substr(3)));
  CHECK(PoolLayout::IsStaging(doomed.substr(3)));
  CHECK_FALSE(PoolLayout::IsStaging("s1"));
  CHECK(PoolLayout::IsMetaTemp(".meta.json.tmp-0a1b2c"));
  CHECK_FALSE(PoolLayout::IsMetaTemp("meta.json"));
}
