#include <sys/sysmacros.h>

#include <catch2/catch.hpp>

#include "volume-plugin/system/mounter.h"

namespace helix::vol {
namespace {

TEST_CASE("ParseMountInfo reads source, target, fstype and per-mount options") {
  auto entries = ParseMountInfo(
      "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard,errors=remount-ro\n"
      "512 22 7:3 / /var/lib/helixvol/mounts/s1 rw,noatime shared:204 - ext4 /dev/loop3 "
      "rw,nodelalloc\n");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].source == "/dev/vda");
  CHECK(entries[0].target == "/");
  CHECK(entries[0].fstype == "ext4");
  CHECK(entries[0].options == "rw,relatime");
  CHECK(entries[1].source == "/dev/loop3");
  CHECK(entries[1].target == "/var/lib/helixvol/mounts/s1");
  CHECK(entries[1].options == "rw,noatime");
}

TEST_CASE("ParseMountInfo reads the device number and the superblock's options") {
  auto entries = ParseMountInfo(
      "512 22 7:3 / /m/s1 rw,noatime shared:204 - ext4 /dev/loop3 rw,errors=remount-ro\n"
      "513 22 259:65539 / /m/s2 rw - ext4 /dev/loop65539 rw,emergency_ro\n"
      "514 22 x:y / /m/odd rw - tmpfs tmpfs rw\n");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].device == makedev(7, 3));
  CHECK(entries[0].super_options == "rw,errors=remount-ro");
  CHECK(entries[1].device == makedev(259, 65539));
  CHECK(entries[1].super_options == "rw,emergency_ro");
  CHECK(entries[2].device == 0);
}

TEST_CASE("ParseMountInfo skips any number of optional fields up to the separator") {
  auto none = ParseMountInfo("30 22 0:26 / /proc rw,nosuid,nodev,noexec - proc proc rw\n");
  auto two = ParseMountInfo(
      "601 540 0:52 /pool /mnt/pool ro,nosuid shared:1 master:2 - xfs /dev/vdb1 ro,attr2\n");
  auto three = ParseMountInfo(
      "602 540 0:53 / /mnt/x rw shared:7 master:3 propagate_from:1 - tmpfs tmpfs rw\n");
  REQUIRE(none.size() == 1);
  CHECK(none[0].fstype == "proc");
  CHECK(none[0].source == "proc");
  REQUIRE(two.size() == 1);
  CHECK(two[0].target == "/mnt/pool");
  CHECK(two[0].fstype == "xfs");
  CHECK(two[0].source == "/dev/vdb1");
  CHECK(two[0].options == "ro,nosuid");
  REQUIRE(three.size() == 1);
  CHECK(three[0].fstype == "tmpfs");
}

TEST_CASE("ParseMountInfo undoes the kernel's octal escapes in target and source") {
  auto entries = ParseMountInfo(
      "700 22 7:4 / /tmp/my\\040vol\\011tab\\012nl\\134bs rw,relatime shared:300 - ext4 "
      "/srv/disk\\040images/a.img rw\n");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].target == "/tmp/my vol\ttab\nnl\\bs");
  CHECK(entries[0].source == "/srv/disk images/a.img");
}

TEST_CASE("ParseMountInfo keeps a backslash that does not start an octal escape") {
  auto entries = ParseMountInfo("701 22 0:60 / /mnt/a\\b\\9 rw - tmpfs x\\0 rw\n");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].target == "/mnt/a\\b\\9");
  CHECK(entries[0].source == "x\\0");
}

TEST_CASE("ParseMountInfo keeps an empty source as an empty string") {
  auto entries = ParseMountInfo("43 22 0:33 / /empty rw,relatime - tmpfs  rw,size=1024k\n");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].source.empty());
  CHECK(entries[0].fstype == "tmpfs");
  CHECK(entries[0].target == "/empty");
}

TEST_CASE("ParseMountInfo leaves out lines without the separator or its fields") {
  auto entries = ParseMountInfo(
      "\n"
      "garbage\n"
      "40 22 0:30 / /no/separator rw shared:9 ext4 /dev/x rw\n"
      "41 22 0:31 / /no/source rw - ext4\n"
      "42 22 0:32 / /good rw - ext4 /dev/loop9 rw");  // last line without newline
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].target == "/good");
  CHECK(entries[0].source == "/dev/loop9");
}

}  // namespace
}  // namespace helix::vol
