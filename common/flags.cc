#include "common/flags.h"

#include <stdexcept>

#include "common/quote.h"

namespace helix {

Flags::Flags(std::vector<Spec> specs, bool positional, std::string prefix, std::string hint)
    : allow_positional_(positional), prefix_(std::move(prefix)), hint_(std::move(hint)) {
  for (auto& spec : specs) values_[spec.name] = std::move(spec.default_value);
}

Error Flags::Fail(const std::string& what) const { return InvalidArgument(prefix_ + what + hint_); }

Status Flags::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      if (!allow_positional_) {
        if (unexpected_hint_) {
          return InvalidArgument(prefix_ + "unexpected argument " + Quote(arg) + *unexpected_hint_);
        }
        return Fail("unexpected argument " + Quote(arg));
      }
      positional_.push_back(arg);
      continue;
    }
    auto it = values_.find(arg);
    if (it == values_.end()) return Fail("unknown flag " + Quote(arg));
    if (i + 1 >= args.size()) return InvalidArgument(prefix_ + "flag " + arg + " needs a value");
    it->second = args[++i];
    given_.emplace_back(arg, it->second);
  }
  return Ok();
}

const std::string& Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("Flags::Get: undeclared flag " + name);
  return it->second;
}

}  // namespace helix
