// A directory under /tmp that is removed with everything in it at the end of
// the test.
#pragma once

#include <stdlib.h>

#include <string>

#include "common/file_util.h"

namespace helix::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/helix-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveTree(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

}  // namespace helix::testing
