// Reading the UUID out of tune2fs -l / dumpe2fs -h output.
#include "volume-plugin/system/formatter.h"

#include <catch2/catch.hpp>

namespace helix::vol {
namespace {

TEST_CASE("ParseFilesystemUuid reads the Filesystem UUID line of tune2fs -l") {
  const char* listing =
      "tune2fs 1.47.0 (5-Feb-2023)\n"
      "Filesystem volume name:   <none>\n"
      "Last mounted on:          <not available>\n"
      "Filesystem UUID:          2d4c4b1e-7d0a-4f8e-9a57-0c6e1b9f3a21\n"
      "Filesystem magic number:  0xEF53\n";
  CHECK(ParseFilesystemUuid(listing) == "2d4c4b1e-7d0a-4f8e-9a57-0c6e1b9f3a21");
}

TEST_CASE("ParseFilesystemUuid handles a last line without newline and no UUID at all") {
  CHECK(ParseFilesystemUuid("Filesystem UUID: abc\r") == "abc");
  CHECK(ParseFilesystemUuid("Filesystem volume name: <none>\n").empty());
  CHECK(ParseFilesystemUuid("").empty());
  // Only a line that starts with the key counts.
  CHECK(ParseFilesystemUuid("Journal UUID: x\n").empty());
}

}  // namespace
}  // namespace helix::vol
