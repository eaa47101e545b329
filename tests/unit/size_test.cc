#include "common/size.h"

#include <catch2/catch.hpp>

namespace helix {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

std::string ErrorOf(std::string_view text) {
  auto r = ParseSize(text);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind() == ErrorKind::kInvalidArgument);
  return r.error().message();
}

TEST_CASE("ParseSize reads plain digits as bytes", "[common]") {
  CHECK(ParseSize("4096").value() == 4096);
  CHECK(ParseSize("1").value() == 1);
  CHECK(ParseSize("4096B").value() == 4096);
  CHECK(ParseSize("0010").value() == 10);
}

TEST_CASE("ParseSize uses binary units K through P", "[common]") {
  CHECK(ParseSize("512K").value() == 512ULL << 10);
  CHECK(ParseSize("512M").value() == 512ULL << 20);
  CHECK(ParseSize("20G").value() == 20 * kGiB);
  CHECK(ParseSize("1T").value() == 1ULL << 40);
  CHECK(ParseSize("2P").value() == 2ULL << 50);
}

TEST_CASE("ParseSize accepts B and iB after the unit in any case", "[common]") {
  for (const char* text : {"20G", "20g", "20GB", "20gb", "20GiB", "20gib", "20Gib", "20gIB"}) {
    INFO(text);
    CHECK(ParseSize(text).value() == 20 * kGiB);
  }
}

TEST_CASE("ParseSize accepts the largest size below 2^63", "[common]") {
  CHECK(ParseSize("8388607T").value() == (8388607ULL << 40));
  CHECK(ParseSize("9223372036854775807").value() == 9223372036854775807ULL);
}

TEST_CASE("ParseSize refuses text that is not a size", "[common]") {
  CHECK(ErrorOf("abc") == "size \"abc\" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("G") == "size \"G\" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("20X") == "size \"20X\" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("20GG") == "size \"20GG\" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("20iB") == "size \"20iB\" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("20Gi") == "size \"20Gi\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize refuses an empty size", "[common]") {
  CHECK(ErrorOf("") == "size \"\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize refuses whitespace anywhere", "[common]") {
  CHECK(ErrorOf(" 20G") == "size \" 20G\" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("20G ") == "size \"20G \" is not a size (examples: 512M, 20G, 1T)");
  CHECK(ErrorOf("20 G") == "size \"20 G\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize escapes control characters when quoting the input", "[common]") {
  CHECK(ErrorOf("1G\n") == "size \"1G\\u000a\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize refuses fractions", "[common]") {
  CHECK(ErrorOf("1.5G") == "size \"1.5G\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize refuses a leading plus sign", "[common]") {
  CHECK(ErrorOf("+1G") == "size \"+1G\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize refuses a negative size", "[common]") {
  CHECK(ErrorOf("-1") == "size \"-1\" must be positive");
  CHECK(ErrorOf("-20G") == "size \"-20G\" must be positive");
  CHECK(ErrorOf("-abc") == "size \"-abc\" is not a size (examples: 512M, 20G, 1T)");
}

TEST_CASE("ParseSize refuses zero", "[common]") {
  CHECK(ErrorOf("0") == "size \"0\" must be positive");
  CHECK(ErrorOf("0G") == "size \"0G\" must be positive");
}

TEST_CASE("ParseSize refuses sizes of 2^63 bytes and more", "[common]") {
  CHECK(ErrorOf("99999999T") == "size \"99999999T\" is too large");
  CHECK(ErrorOf("8388608T") == "size \"8388608T\" is too large");
  CHECK(ErrorOf("9223372036854775808") == "size \"9223372036854775808\" is too large");
  CHECK(ErrorOf("99999999999999999999999999") ==
        "size \"99999999999999999999999999\" is too large");
}

TEST_CASE("FormatSize names an exact unit without decimals", "[common]") {
  CHECK(FormatSize(21474836480ULL) == "20GiB");
  CHECK(FormatSize(512ULL << 20) == "512MiB");
  CHECK(FormatSize(1ULL << 40) == "1TiB");
  CHECK(FormatSize(3ULL << 50) == "3PiB");
  CHECK(FormatSize(1ULL << 60) == "1EiB");
  CHECK(FormatSize(UINT64_MAX) == "16.0EiB");
  CHECK(FormatSize(1024) == "1KiB");
  CHECK(FormatSize(512) == "512B");
  CHECK(FormatSize(0) == "0B");
}

TEST_CASE("FormatSize gives one decimal when no unit divides the size", "[common]") {
  CHECK(FormatSize(kGiB + kGiB / 2) == "1.5GiB");
  CHECK(FormatSize(1536) == "1.5KiB");
  CHECK(FormatSize(kGiB + 1) == "1.0GiB");
}

TEST_CASE("FormatSize rounds up into the next unit rather than print 1024.0", "[common]") {
  CHECK(FormatSize(kGiB - 1) == "1.0GiB");
}

TEST_CASE("FormatSize output parses back when exact", "[common]") {
  for (uint64_t bytes : {uint64_t{4096}, 20 * kGiB, uint64_t{7} << 40}) {
    std::string text = FormatSize(bytes);
    INFO(text);
    CHECK(ParseSize(text).value() == bytes);
  }
}

}  // namespace
}  // namespace helix
