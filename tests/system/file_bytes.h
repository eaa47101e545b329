// Reading and writing test files by offset, failing the test on error.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "common/unique_fd.h"

namespace helix::vol::testing {

inline std::string ReadAll(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd.valid());
  struct stat st;
  REQUIRE(::fstat(fd.get(), &st) == 0);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pread(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(done));
    REQUIRE(n > 0);
    done += static_cast<size_t>(n);
  }
  return data;
}

// Writes `data` at `offset` (creating the file if needed) and fsyncs.
inline void WriteAt(const std::string& path, off_t offset, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  REQUIRE(fd.valid());
  REQUIRE(::pwrite(fd.get(), data.data(), data.size(), offset) ==
          static_cast<ssize_t>(data.size()));
  REQUIRE(::fsync(fd.get()) == 0);
}

inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = gen();
    data.replace(i, 8, reinterpret_cast<const char*>(&v), 8);
  }
  return data;
}

inline uint64_t AllocatedBytes(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

}  // namespace helix::vol::testing
