// Lower and RandomHex (strings.h).
#include "common/strings.h"

#include <sys/random.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

namespace helix {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string RandomHex(size_t n) {
  std::vector<unsigned char> bytes((n + 1) / 2);
  // getrandom only fails before the pool is seeded or on EINTR; the names
  // only need to be unlikely to collide, and their users catch the rest
  // (O_EXCL, mkdir's EEXIST).
  if (getrandom(bytes.data(), bytes.size(), GRND_NONBLOCK) != static_cast<ssize_t>(bytes.size())) {
    std::mt19937_64 rng(
        static_cast<uint64_t>(getpid()) ^
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rng());
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  hex.resize(n);
  return hex;
}

}  // namespace helix
