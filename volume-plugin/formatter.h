// mkfs.ext4, run as a tool with an argument vector.
#pragma once

#include <chrono>

#include "volume-plugin/system.h"

namespace helix::vol {

class Ext4Formatter : public Formatter {
 public:
  explicit Ext4Formatter(std::chrono::milliseconds timeout = std::chrono::minutes(2))
      : timeout_(timeout) {}
  Status MakeExt4(const std::string& image) override;

 private:
  std::chrono::milliseconds timeout_;
};

}  // namespace helix::vol
