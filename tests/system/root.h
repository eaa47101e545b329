// System tests need root and the real kernel. Without root each test says so
// and passes as skipped, instead of failing on a permission error.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>

#define REQUIRE_ROOT_OR_SKIP()                                              \
  do {                                                                      \
    if (::geteuid() != 0) {                                                 \
      WARN(                                                                 \
          "SKIPPED: system tests need root (loop devices, mounts); run as " \
          "root or use make test-system");                                  \
      return;                                                               \
    }                                                                       \
  } while (0)
