// The mount reference rules, without a manager: exclusivity and counting.
#include "volume-plugin/domain/mount_references.h"

#include <catch2/catch.hpp>

using namespace helix;
using namespace helix::vol;

namespace {

const std::string kId1(64, '1');
const std::string kId2(64, '2');

VolumeMeta Held(bool exclusive, bool snapshot = false) {
  VolumeMeta m;
  m.name = "v1";
  m.exclusive = exclusive;
  m.snapshot = snapshot;
  m.mount_refs[kId1] = 1;
  return m;
}

}  // namespace

TEST_CASE("references: an exclusive volume refuses a second mount ID", "[references]") {
  Status s = CheckMayMount(Held(true), kId2, "mount volume \"v1\"");
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().kind() == ErrorKind::kBusy);
  CHECK(s.error().message() ==
        "mount volume \"v1\": in use by another container (mount ID 111111111111); a data root "
        "is exclusive because two Docker engines on one data root corrupt it (create the volume "
        "with -o exclusive=false to share it)");
}

TEST_CASE("references: the same mount ID, a shared volume and a snapshot may mount",
          "[references]") {
  CHECK(CheckMayMount(Held(true), kId1, "m").ok());
  CHECK(CheckMayMount(Held(false), kId2, "m").ok());
  CHECK(CheckMayMount(Held(true, /*snapshot=*/true), kId2, "m").ok());
  CHECK(CheckMayMount(VolumeMeta{}, kId2, "m").ok());
}

TEST_CASE("references: counted per mount ID, unmounted at zero", "[references]") {
  VolumeMeta m;
  AddReference(m, kId1);
  AddReference(m, kId1);  // docker cp mounts again with the same ID
  AddReference(m, kId2);
  CHECK(m.References() == 3);
  CHECK(DropReference(m, kId1));
  CHECK_FALSE(ShouldUnmount(m, true));
  CHECK(DropReference(m, kId1));
  CHECK(m.mount_refs.count(kId1) == 0);
  CHECK_FALSE(DropReference(m, kId1));
  CHECK(DropReference(m, kId2));
  CHECK(ShouldUnmount(m, true));
  CHECK_FALSE(ShouldUnmount(m, false));
}

TEST_CASE("references: release drops one ID or all of them", "[references]") {
  VolumeMeta m;
  AddReference(m, kId1);
  AddReference(m, kId1);
  AddReference(m, kId2);
  CHECK(ReleaseReferences(m, "nobody").empty());
  CHECK(ReleaseReferences(m, kId1) == std::vector<std::string>{kId1});
  CHECK(m.References() == 1);
  AddReference(m, kId1);
  CHECK(ReleaseReferences(m, "") == std::vector<std::string>{kId1, kId2});
  CHECK(m.mount_refs.empty());
}

TEST_CASE("references: a short ID is the first 12 characters", "[references]") {
  CHECK(ShortId(kId2) == "222222222222");
  CHECK(ShortId("abc") == "abc");
}
