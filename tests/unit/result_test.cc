#include "common/result.h"

#include <memory>

#include <catch2/catch.hpp>

namespace helix {
namespace {

TEST_CASE("SysError names the object and the errno text", "[common]") {
  Error e = SysError("write /x/meta.json", ENOSPC);
  CHECK(e.message() == "write /x/meta.json: No space left on device");
  CHECK(e.sys_errno() == ENOSPC);
}

TEST_CASE("SysError picks the kind from the errno", "[common]") {
  CHECK(SysError("x", ENOENT).kind() == ErrorKind::kNotFound);
  CHECK(SysError("x", EEXIST).kind() == ErrorKind::kAlreadyExists);
  CHECK(SysError("x", ENOTEMPTY).kind() == ErrorKind::kAlreadyExists);
  CHECK(SysError("x", EBUSY).kind() == ErrorKind::kBusy);
  CHECK(SysError("x", ENOSPC).kind() == ErrorKind::kNoSpace);
  CHECK(SysError("x", EDQUOT).kind() == ErrorKind::kNoSpace);
  CHECK(SysError("x", ETIMEDOUT).kind() == ErrorKind::kTimeout);
  CHECK(SysError("x", EIO).kind() == ErrorKind::kSystem);
}

TEST_CASE("HELIX_SYS_ERROR reads errno when not given one", "[common]") {
  errno = EBUSY;
  Error e = HELIX_SYS_ERROR("umount /mnt");
  CHECK(e.sys_errno() == EBUSY);
  CHECK(e.message() == "umount /mnt: Device or resource busy");
}

TEST_CASE("HELIX_SYS_ERROR reads errno before the message is built", "[common]") {
  errno = EBUSY;
  // Building a message may allocate, and an allocation may change errno.
  auto message = [] {
    errno = ENOMEM;
    return std::string("umount /mnt");
  };
  Error e = HELIX_SYS_ERROR(message());
  CHECK(e.sys_errno() == EBUSY);
  CHECK(e.message() == "umount /mnt: Device or resource busy");
}

TEST_CASE("Error::Wrap prepends context and keeps kind and errno", "[common]") {
  Error e = SysError("attach /pool/v1/disk.img to /dev/loop3", EBUSY).Wrap("create volume \"s1\"");
  CHECK(e.message() ==
        "create volume \"s1\": attach /pool/v1/disk.img to /dev/loop3: Device or resource busy");
  CHECK(e.kind() == ErrorKind::kBusy);
  CHECK(e.sys_errno() == EBUSY);
}

TEST_CASE("Error made without an errno has none", "[common]") {
  Error e = InvalidArgument("invalid option \"sise\"");
  CHECK(e.kind() == ErrorKind::kInvalidArgument);
  CHECK(e.sys_errno() == 0);
}

TEST_CASE("KindName gives a readable name for every kind", "[common]") {
  CHECK(KindName(ErrorKind::kInvalidArgument) == "invalid argument");
  CHECK(KindName(ErrorKind::kNotFound) == "not found");
  CHECK(KindName(ErrorKind::kAlreadyExists) == "already exists");
  CHECK(KindName(ErrorKind::kBusy) == "busy");
  CHECK(KindName(ErrorKind::kNoSpace) == "no space");
  CHECK(KindName(ErrorKind::kSystem) == "system");
  CHECK(KindName(ErrorKind::kTimeout) == "timeout");
}

TEST_CASE("Result holds either a value or an error", "[common]") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = NotFound("volume \"v\" not found");
  REQUIRE_FALSE(bad.ok());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error().kind() == ErrorKind::kNotFound);
}

TEST_CASE("Result can move a value out", "[common]") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 3);
}

TEST_CASE("Status is ok by default and carries an error otherwise", "[common]") {
  Status ok = Ok();
  CHECK(ok.ok());
  Status bad = Busy("volume \"v\" is in use");
  CHECK_FALSE(bad.ok());
  CHECK(bad.error().message() == "volume \"v\" is in use");
}

Status FailAt(int step, int* reached) {
  for (int i = 0; i < 3; ++i) {
    *reached = i;
    HELIX_TRY(i == step ? Status(NoSpace("step " + std::to_string(i))) : Ok());
  }
  return Ok();
}

TEST_CASE("HELIX_TRY returns the first error unchanged", "[common]") {
  int reached = -1;
  Status s = FailAt(1, &reached);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message() == "step 1");
  CHECK(s.error().kind() == ErrorKind::kNoSpace);
  CHECK(reached == 1);
  CHECK(FailAt(-1, &reached).ok());
  CHECK(reached == 2);
}

}  // namespace
}  // namespace helix
