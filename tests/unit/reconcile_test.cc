// The reconciliation plan, from made-up facts: what the disk and the kernel
// say in, what recovery will do out.
#include "volume-plugin/domain/reconcile.h"

#include <sys/sysmacros.h>

#include <catch2/catch.hpp>

using namespace helix;
using namespace helix::vol;

namespace {

const FileId kImage{makedev(8, 1), 42};
const dev_t kLoop3 = makedev(7, 3);

std::string MetaText(const std::string& name, int refs, bool snapshot = false) {
  VolumeMeta m;
  m.name = name;
  m.size_bytes = 1 << 30;
  m.created_at = "2026-11-30T08:49:43Z";
  m.snapshot = snapshot;
  if (refs > 0) m.mount_refs[std::string(64, 'a')] = refs;
  return MetaToJson(m);
}

VolumeFacts Facts(int refs, bool snapshot = false) {
  VolumeFacts f;
  f.name = "v1";
  f.meta_path = "/pool/v1/meta.json";
  f.meta_text = MetaText("v1", refs, snapshot);
  f.image = "/pool/v1/disk.img";
  f.image_id = kImage;
  f.target = "/mnt/v1";
  f.pool_dev = makedev(8, 1);
  return f;
}

LoopBinding Loop3(bool autoclear = true) {
  return {"/dev/loop3", kLoop3, kImage, "/pool/v1/disk.img", false, autoclear};
}

MountEntry OurMount() { return {"/dev/loop3", "/mnt/v1", "ext4", "rw,noatime", kLoop3, "rw"}; }

}  // namespace

TEST_CASE("reconcile: pool entries are volumes, leftovers or strays", "[reconcile]") {
  auto plan = PlanPool({".tmp-0a1b", ".tmp-rm-99", "v1", "Bad Name"});
  REQUIRE(plan.size() == 4);
  CHECK(plan[0].kind == PoolEntry::kLeftover);
  CHECK(plan[1].kind == PoolEntry::kLeftover);
  CHECK(plan[2].kind == PoolEntry::kVolume);
  CHECK(plan[2].name == "v1");
  CHECK(plan[3].kind == PoolEntry::kStray);
  CHECK_FALSE(plan[3].why.empty());
}

TEST_CASE("reconcile: a volume at rest needs nothing", "[reconcile]") {
  VolumePlan p = PlanVolume(Facts(0), KernelView({}, {}));
  CHECK(p.broken.empty());
  CHECK_FALSE(p.mounted);
  CHECK(p.repair == VolumePlan::kNothing);
  CHECK_FALSE(p.make_data_dir);
  CHECK(p.meta.name == "v1");
}

TEST_CASE("reconcile: mounted with references is kept, and thawed", "[reconcile]") {
  VolumePlan p = PlanVolume(Facts(1), KernelView({OurMount()}, {Loop3()}));
  CHECK(p.mounted);
  CHECK(p.loop->device == "/dev/loop3");
  CHECK(p.repair == VolumePlan::kKeepMounted);
  CHECK(p.thaw);
  CHECK(p.make_data_dir);
}

TEST_CASE("reconcile: mounted without references is unmounted", "[reconcile]") {
  VolumePlan p = PlanVolume(Facts(0), KernelView({OurMount()}, {Loop3()}));
  CHECK(p.repair == VolumePlan::kUnmount);
}

TEST_CASE("reconcile: references kept while a loop device backs a container's copy",
          "[reconcile]") {
  VolumePlan p = PlanVolume(Facts(2), KernelView({}, {Loop3()}));
  CHECK_FALSE(p.mounted);
  CHECK(p.repair == VolumePlan::kKeepForContainer);
}

TEST_CASE("reconcile: references with neither mount nor loop device are dropped", "[reconcile]") {
  VolumePlan p = PlanVolume(Facts(1), KernelView({}, {}));
  CHECK(p.repair == VolumePlan::kDropReferences);
}

TEST_CASE("reconcile: an orphaned loop device of ours is detached, someone else's left",
          "[reconcile]") {
  CHECK(PlanVolume(Facts(0), KernelView({}, {Loop3()})).repair == VolumePlan::kDetachOrphan);
  CHECK(PlanVolume(Facts(0), KernelView({}, {Loop3(/*autoclear=*/false)})).repair ==
        VolumePlan::kLeaveForeignLoop);
}

TEST_CASE("reconcile: someone else's mount on the mount point is left alone", "[reconcile]") {
  MountEntry tmpfs{"tmpfs", "/mnt/v1", "tmpfs", "rw", makedev(0, 50), "rw"};
  VolumePlan p = PlanVolume(Facts(0), KernelView({tmpfs}, {}));
  REQUIRE(p.foreign.has_value());
  CHECK(p.foreign->fstype == "tmpfs");
  CHECK_FALSE(p.mounted);
  CHECK(p.repair == VolumePlan::kNothing);
}

TEST_CASE("reconcile: an unreadable meta.json makes the volume broken, still registered",
          "[reconcile]") {
  VolumeFacts f = Facts(0);
  f.meta_text = "{";
  VolumePlan p = PlanVolume(f, KernelView({}, {}));
  CHECK(p.meta.name == "v1");
  CHECK(p.broken ==
        "meta.json cannot be read (/pool/v1/meta.json: not a JSON object); remove the volume, or "
        "repair the file and restart helixvol");
  f.meta_text = MetaText("other", 0);
  CHECK(PlanVolume(f, KernelView({}, {})).broken ==
        "meta.json cannot be read (/pool/v1/meta.json: names volume \"other\"); remove the "
        "volume, or repair the file and restart helixvol");
  f.meta_text.reset();
  f.meta_error = "open /pool/v1/meta.json: Permission denied";
  CHECK(PlanVolume(f, KernelView({}, {})).broken ==
        "meta.json cannot be read (open /pool/v1/meta.json: Permission denied); remove the "
        "volume, or repair the file and restart helixvol");
}

TEST_CASE("reconcile: an image deleted under its mount is found through the loop device",
          "[reconcile]") {
  VolumeFacts f = Facts(1);
  f.image_id.reset();
  f.image_errno = ENOENT;
  LoopBinding deleted = Loop3();
  deleted.backing.dev = f.pool_dev;
  deleted.backing_path = "/pool/v1/disk.img (deleted)";
  VolumePlan p = PlanVolume(f, KernelView({OurMount()}, {deleted}));
  CHECK(p.mounted);
  CHECK(p.repair == VolumePlan::kKeepMounted);
  CHECK(p.broken.rfind("image /pool/v1/disk.img is missing", 0) == 0);
  CHECK_FALSE(p.make_data_dir);  // broken: nothing is made in it
}

TEST_CASE("reconcile: a snapshot gets no data directory made", "[reconcile]") {
  VolumePlan p = PlanVolume(Facts(1, /*snapshot=*/true), KernelView({OurMount()}, {Loop3()}));
  CHECK(p.mounted);
  CHECK_FALSE(p.make_data_dir);
}

TEST_CASE("reconcile: mount-root entries of no mounted volume are stale", "[reconcile]") {
  CHECK(StaleMountDirs({"v1", "v2", "gone"}, {"v1"}) == std::vector<std::string>{"v2", "gone"});
}
