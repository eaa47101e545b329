#include "common/settings.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "common/quote.h"
#include "common/size.h"
#include "common/strings.h"

namespace helix {
namespace {

// setting NAME="value": <problem>
Error Bad(const std::string& name, const std::string& value, const std::string& problem) {
  return InvalidArgument("setting " + name + "=" + Quote(value) + ": " + problem);
}

}  // namespace

Environment Environment::FromProcess() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    // The first definition wins, as with getenv().
    vars.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return Environment(std::move(vars));
}

std::optional<std::string> Environment::Get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

Result<std::string> Environment::String(const std::string& name,
                                        const std::string& fallback) const {
  return Get(name).value_or(fallback);
}

Result<uint64_t> Environment::Size(const std::string& name, const std::string& fallback) const {
  std::optional<std::string> value = Get(name);
  if (!value) {
    // A bad fallback is the program's fault, not the operator's: say so.
    auto parsed = ParseSize(fallback);
    if (!parsed) {
      return parsed.error().Wrap("default of setting " + name);
    }
    return parsed;
  }
  auto parsed = ParseSize(*value);
  if (!parsed) {
    return Bad(name, *value, parsed.error().message());
  }
  return parsed;
}

Result<bool> Environment::Bool(const std::string& name, bool fallback) const {
  std::optional<std::string> value = Get(name);
  if (!value) {
    return fallback;
  }
  std::string v = Lower(*value);
  if (v == "true" || v == "1" || v == "yes") {
    return true;
  }
  if (v == "false" || v == "0" || v == "no") {
    return false;
  }
  return Bad(name, *value, "must be true or false");
}

Result<uint64_t> Environment::Unsigned(const std::string& name, uint64_t fallback) const {
  std::optional<std::string> value = Get(name);
  if (!value) {
    return fallback;
  }
  uint64_t n = 0;
  for (char c : *value) {
    if (c < '0' || c > '9') {
      return Bad(name, *value, "must be a whole number");
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) {
      return Bad(name, *value, "is too large");
    }
    n = n * 10 + digit;
  }
  return n;
}

Result<std::string> Environment::Choice(const std::string& name,
                                        const std::vector<std::string>& choices,
                                        const std::string& fallback) const {
  std::optional<std::string> value = Get(name);
  if (!value) {
    return fallback;
  }
  if (std::find(choices.begin(), choices.end(), *value) != choices.end()) {
    return *value;
  }
  std::string list;
  for (const std::string& c : choices) {
    list += list.empty() ? "" : ", ";
    list += c;
  }
  return Bad(name, *value, "must be one of " + list);
}

}  // namespace helix
