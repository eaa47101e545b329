// Command-line flags: "--flag value" pairs and positional arguments, for
// every command of both binaries (helixvol serve, release and preload;
// helixauthz serve, check and validate). One parser, so that every command
// answers a mistake the same way:
//   unknown flag "--sokcet"
//   flag --size needs a value
//   unexpected argument "x"
// with the caller's hint appended (", see helixvol help") and its prefix in
// front ("preload: "). Values are not checked here: each command checks its
// own, naming the flag and the value, before it does anything.
//
// (CLI11 and cxxopts, both packaged, word their parse errors and usage in
// their own way; the messages above are documented and pinned by tests, and
// the whole job is forty lines, so no library is used here.)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace helix {

class Flags {
 public:
  struct Spec {
    Spec(std::string n, std::string d = "") : name(std::move(n)), default_value(std::move(d)) {}
    std::string name;  // "--socket"
    std::string default_value;
  };
  // `specs`: the flags the command takes. `positional`: whether bare
  // arguments are allowed (else the first one is an error). `prefix` and
  // `hint` frame every error message.
  Flags(std::vector<Spec> specs, bool positional, std::string prefix = "", std::string hint = "");

  // What to say after "unexpected argument "x"" instead of the hint (say,
  // where such arguments belong).
  Flags& OnUnexpected(std::string hint) {
    unexpected_hint_ = std::move(hint);
    return *this;
  }

  // Parses `args` (the command's arguments, without the program and the
  // command); stops at the first problem.
  Status Parse(const std::vector<std::string>& args);

  // The last value given for `name`, else its default. `name` must be one
  // of the specs.
  const std::string& Get(const std::string& name) const;
  // Every "--flag value" pair in the order given (repeated flags included).
  const std::vector<std::pair<std::string, std::string>>& given() const { return given_; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  Error Fail(const std::string& what) const;

  std::map<std::string, std::string> values_;  // name -> value (default until given)
  bool allow_positional_;
  std::string prefix_, hint_;
  std::optional<std::string> unexpected_hint_;
  std::vector<std::pair<std::string, std::string>> given_;
  std::vector<std::string> positional_;
};

}  // namespace helix
