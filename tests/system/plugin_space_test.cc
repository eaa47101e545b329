// When space runs out, through the binary on the real kernel, for both kinds
// of pool, on small filesystems made here: what docs/helixvol.md ("When space
// runs out") promises, step by step.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "common/file_util.h"
#include "common/size.h"
#include "common/spawn.h"
#include "system/file_bytes.h"
#include "system/kernel_scratch.h"
#include "system/plugin_process.h"
#include "system/root.h"

using helix::testing::PluginProcess;
using nlohmann::json;
namespace vt = helix::vol::testing;

namespace {

const std::string kId1(64, 'a');
const std::string kId2(64, 'b');
constexpr uint64_t kMiB = 1 << 20;

struct Fill {
  int written_mib = 0;
  int write_errno = 0;  // of the first write that failed, 0 if none did
  int fsync_errno = 0;  // of the fsync after the writes
};

// Writes up to `max_mib` MiB of random data to `path` without syncing, then
// fsyncs: the way a program that writes a lot and syncs at the end finds out.
Fill FillFile(const std::string& path, int max_mib) {
  Fill f;
  helix::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  REQUIRE(fd.valid());
  const std::string chunk = vt::RandomBytes(kMiB, 42);
  for (; f.written_mib < max_mib; ++f.written_mib) {
    if (::write(fd.get(), chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
      f.write_errno = errno;
      break;
    }
  }
  f.fsync_errno = ::fsync(fd.get()) == 0 ? 0 : errno;
  return f;
}

// errno of creating and syncing a small file in `dir`, 0 on success.
int TryWrite(const std::string& dir) {
  helix::UniqueFd fd(::open((dir + "/probe").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return errno;
  if (::write(fd.get(), "probe", 5) != 5) return errno;
  return ::fsync(fd.get()) == 0 ? 0 : errno;
}

uint64_t FreeOn(const std::string& dir) {
  struct statvfs vfs {};
  REQUIRE(::statvfs(dir.c_str(), &vfs) == 0);
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

// Leaves `leave` bytes free on the filesystem of `dir` with a file of its own.
void FillHostTo(const std::string& dir, uint64_t leave) {
  uint64_t free = FreeOn(dir);
  REQUIRE(free > leave);
  helix::UniqueFd fd(::open((dir + "/filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  REQUIRE(fd.valid());
  struct stat st {};
  REQUIRE(::fstat(fd.get(), &st) == 0);
  REQUIRE(::fallocate(fd.get(), 0, st.st_size, static_cast<off_t>(free - leave)) == 0);
}

std::string MountpointOf(PluginProcess& p, const std::string& name, const std::string& id) {
  auto r = p.Call("Mount", {{"Name", name}, {"ID", id}});
  INFO((r.ok() ? std::string() : r.error().message()));
  REQUIRE(r.ok());
  return (*r)["Mountpoint"];
}

}  // namespace

// Waits (at most a minute) for Status field `field` of `name` to become
// `want`: ext4 remounts itself read-only at its next journal commit after a
// failed write, within its commit interval (5 s).
bool StatusBecomes(PluginProcess& p, const std::string& name, const std::string& field,
                   const json& want) {
  for (int i = 0; i < 600; ++i) {
    if (p.Status(name).value(field, json()) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_CASE("a full reflink pool makes the volumes that write read-only and refuses creates",
          "[plugin][space]") {
  REQUIRE_ROOT_OR_SKIP();
  vt::WithKernelScratch([](vt::KernelScratch& s) {
    std::string xfs = s.XfsMount("xfs", 320 * vt::kMiB);
    PluginProcess p({{"POOL_CRITICAL", "16M"}, {"POOL_WARNING", "64M"}}, xfs + "/state");
    REQUIRE(p.Call("Create", {{"Name", "big"}, {"Opts", {{"size", "1G"}}}}).ok());
    REQUIRE(p.Call("Create", {{"Name", "small"}, {"Opts", {{"size", "32M"}}}}).ok());
    json st = p.Status("small");
    CHECK(st["pool_space"] == "ok");
    // The scratch XFS is itself an image on a loop device: two layers.
    CHECK(st["pool_layers"].size() == 2);
    CHECK(st["pool_layers"][0]["path"] == xfs + "/state/volumes");
    CHECK(st["pool_layers"][1]["path"] == s.dir());
    CHECK(st["pool_free_bytes"] == st["pool_layers"][0]["free_bytes"]);

    std::string small = MountpointOf(p, "small", kId1);
    vt::WriteAt(small + "/kept", 0, "fsynced before the pool filled");
    std::string big = MountpointOf(p, "big", kId2);

    // A 1 GiB volume in a 256 MiB pool, written without fsync: writeback
    // fails, the volume stops taking writes at its next journal commit, and
    // the writer gets EROFS (or ENOSPC from its fsync) instead of losing
    // data without a word.
    Fill fill = FillFile(big + "/fill", 600);
    INFO("wrote " << fill.written_mib << " MiB, write errno " << fill.write_errno
                  << ", fsync errno " << fill.fsync_errno);
    CHECK(fill.written_mib < 600);
    CHECK((fill.write_errno == EROFS || fill.fsync_errno == ENOSPC || fill.fsync_errno == EROFS));
    CHECK(StatusBecomes(p, "big", "read_only", true));
    CHECK(TryWrite(big) == EROFS);
    CHECK(p.Status("big")["error"] ==
          "the filesystem stopped taking writes after a write error (ext4 remounted it "
          "read-only; a full pool does this): stop its containers, free space in the pool, then "
          "mount it again");
    // Another volume that needs a new block meanwhile gets the error at its
    // fsync (that fsync took the error, so this one may stay read-write);
    // what it had synced stays readable.
    CHECK(TryWrite(small) != 0);
    CHECK(vt::ReadAll(small + "/kept") == "fsynced before the pool filled");

    st = p.Status("small");
    CHECK(st["pool_space"] == "critical");
    CHECK(st["pool_free_bytes"].get<uint64_t>() < (16u << 20));
    std::string refused = p.CallError("Create", {{"Name", "more"}, {"Opts", {{"size", "32M"}}}});
    CHECK(refused.rfind("create volume \"more\": ", 0) == 0);
    CHECK(refused.find(" free on the pool's filesystem " + xfs +
                       "/state/volumes, under POOL_CRITICAL (16MiB): creates are refused until "
                       "space is freed there") != std::string::npos);
    CHECK(p.Names() == std::vector<std::string>{"big", "small"});

    // Unmount happens, but its meta.json cannot be written on a full pool.
    CHECK(p.CallError("Unmount", {{"Name", "big"}, {"ID", kId2}}) ==
          "unmount volume \"big\": write " + p.meta("big") + ": No space left on device");
    st = p.Status("big");
    CHECK(st["mounted"] == false);
    CHECK(st["mount_references"] == 0);
    CHECK(st["error"].get<std::string>().rfind("meta.json could not be updated (write ", 0) == 0);

    // A restart on the full pool: the stale reference cannot be written away,
    // and the volume stays listed all the same, with the reason.
    p.Kill(SIGKILL);
    p.Start();
    CHECK(p.Names() == std::vector<std::string>{"big", "small"});
    CHECK(p.Status("big")["mount_references"] == 0);
    CHECK(p.Status("big")["error"].get<std::string>().rfind("meta.json could not be updated", 0) ==
          0);
    CHECK(p.Status("small")["mount_references"] == 1);

    // Removing the volume that filled it gives the space back.
    REQUIRE(p.Call("Remove", {{"Name", "big"}}).ok());
    CHECK(p.Status("small")["pool_space"] == "ok");
    REQUIRE(p.Call("Unmount", {{"Name", "small"}, {"ID", kId1}}).ok());
    // Mounting again replays the journal: writable, and the synced data intact.
    small = MountpointOf(p, "small", kId1);
    CHECK(vt::ReadAll(small + "/kept") == "fsynced before the pool filled");
    CHECK(TryWrite(small) == 0);
    CHECK_FALSE(p.Status("small").contains("error"));
    REQUIRE(p.Call("Unmount", {{"Name", "small"}, {"ID", kId1}}).ok());
    auto fsck = helix::Run({"e2fsck", "-fn", p.image("small")}, std::chrono::seconds(60));
    REQUIRE(fsck.ok());
    INFO(fsck->out);
    CHECK(fsck->exit_code == 0);
  });
}

TEST_CASE("under a self-managed pool the host disk's free space is the pool's", "[plugin][space]") {
  REQUIRE_ROOT_OR_SKIP();
  vt::WithKernelScratch([](vt::KernelScratch& s) {
    // A 600 MiB ext4 host filesystem under a 1 GiB self-managed pool.
    std::string host_img = s.SparseFile(s.Path("host.img"), 600 * vt::kMiB);
    REQUIRE(helix::RunChecked({"mkfs.ext4", "-q", "-F", host_img}, std::chrono::seconds(60)).ok());
    std::string host = s.Path("host");
    s.Mount(host_img, host, "ext4");
    PluginProcess p({{"POOL_SIZE", "1G"}, {"POOL_CRITICAL", "64M"}, {"POOL_WARNING", "128M"}},
                    host + "/state");
    REQUIRE(p.Call("Create", {{"Name", "v1"}, {"Opts", {{"size", "512M"}}}}).ok());
    json st = p.Status("v1");
    CHECK(st["pool_layers"].size() >= 2);
    CHECK(st["pool_layers"][0]["path"] == host + "/state/pool/volumes");
    CHECK(st["pool_layers"][1]["path"] == host + "/state");
    // XFS in the pool image says about 1 GiB; the disk under it has less.
    CHECK(st["pool_layers"][0]["free_bytes"].get<uint64_t>() > (900ull << 20));
    CHECK(st["pool_free_bytes"] == st["pool_layers"][1]["free_bytes"]);
    CHECK(st["pool_free_bytes"].get<uint64_t>() < (600ull << 20));

    std::string v1 = MountpointOf(p, "v1", kId1);
    vt::WriteAt(v1 + "/kept", 0, "fsynced before the host filled");
    FillHostTo(host, 100 * kMiB);
    CHECK(p.Status("v1")["pool_space"] == "warning");
    REQUIRE(p.Call("Create", {{"Name", "v2"}, {"Opts", {{"size", "32M"}}}}).ok());
    FillHostTo(host, 40 * kMiB);
    CHECK(p.Status("v1")["pool_space"] == "critical");
    std::string refused = p.CallError("Create", {{"Name", "v3"}, {"Opts", {{"size", "32M"}}}});
    CHECK(refused.find(" free on the filesystem holding " + host +
                       "/state/pool.img, under POOL_CRITICAL (64MiB): creates are refused until "
                       "space is freed there") != std::string::npos);

    // Writing past the host's free space: the writer gets the error, the
    // volume turns read-only, its synced data stays.
    Fill fill = FillFile(v1 + "/fill", 300);
    INFO("wrote " << fill.written_mib << " MiB, write errno " << fill.write_errno
                  << ", fsync errno " << fill.fsync_errno);
    CHECK((fill.write_errno == EROFS || fill.fsync_errno == ENOSPC || fill.fsync_errno == EROFS));
    CHECK(StatusBecomes(p, "v1", "read_only", true));
    CHECK(vt::ReadAll(v1 + "/kept") == "fsynced before the host filled");
    (void)p.Call("Unmount", {{"Name", "v1"}, {"ID", kId1}});  // its meta.json may not fit

    // Remove gives the blocks back to the host, not only to XFS: nearly all
    // of what the volume's writes took from the 40 MiB that were left.
    const uint64_t full = FreeOn(host);
    CHECK(full < 8 * kMiB);
    REQUIRE(p.Call("Remove", {{"Name", "v1"}}).ok());
    CHECK(FreeOn(host) > full + 24 * kMiB);
    CHECK(p.Names() == std::vector<std::string>{"v2"});
    p.Kill(SIGKILL);
    p.Start();
    CHECK(p.Names() == std::vector<std::string>{"v2"});
    CHECK_FALSE(p.Status("v2").contains("error"));
  });
}
