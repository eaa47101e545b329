// Internal to the policy loader: a walker over a parsed policy document
// whose errors name the source, the line and the key.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authz-plugin/docker/docker_values.h"
#include "authz-plugin/policy/located_json.h"
#include "common/quote.h"
#include "common/result.h"
#include "common/size.h"

namespace helix::authz {

// Walks a parsed policy document. Every error names the source, the line
// and the key; fields not present keep the value they had in the base
// (built-in defaults for the top level, the top level for a user entry).
class PolicyReader {
 public:
  PolicyReader(const LocatedJson& doc, std::string_view source) : doc_(doc), source_(source) {}

  Error Fail(const std::string& path, const std::string& why) const {
    return InvalidArgument(std::string(source_) + ":" + std::to_string(doc_.LineOf(path)) + ": " +
                           Quote(path) + ": " + why);
  }

  using Field = std::function<Status(const nlohmann::json&, const std::string&)>;
  using Fields = std::vector<std::pair<std::string, Field>>;

  // Reads an object whose keys must all be in `fields`.
  Status Object(const nlohmann::json& v, const std::string& path, const Fields& fields) const {
    if (!v.is_object()) return Fail(path, "expected an object, got " + std::string(v.type_name()));
    for (const auto& [key, value] : v.items()) {
      const Field* handler = nullptr;
      for (const auto& [name, fn] : fields) {
        if (name == key) handler = &fn;
      }
      std::string sub = MemberPath(path, key);
      if (handler == nullptr) {
        std::string valid;
        for (const auto& f : fields) valid += (valid.empty() ? "" : ", ") + f.first;
        return Fail(sub, "unknown key (valid: " + valid + ")");
      }
      HELIX_TRY((*handler)(value, sub));
    }
    return Ok();
  }

  Field Bool(bool* out) const {
    return [this, out](const nlohmann::json& v, const std::string& path) -> Status {
      if (!v.is_boolean()) return Fail(path, "expected true or false, got " + Type(v));
      *out = v.get<bool>();
      return Ok();
    };
  }

  // A list of strings, each passed through `check` (which may rewrite it).
  Field Strings(std::vector<std::string>* out,
                std::function<Status(std::string*, const std::string&)> check = nullptr) const {
    return [this, out, check](const nlohmann::json& v, const std::string& path) -> Status {
      if (!v.is_array()) return Fail(path, "expected a list of strings, got " + Type(v));
      std::vector<std::string> list;
      for (size_t i = 0; i < v.size(); ++i) {
        std::string sub = path + "[" + std::to_string(i) + "]";
        if (!v[i].is_string()) return Fail(sub, "expected a string, got " + Type(v[i]));
        std::string s = v[i].get<std::string>();
        if (s.empty()) return Fail(sub, "must not be empty");
        if (check) HELIX_TRY(check(&s, sub));
        list.push_back(std::move(s));
      }
      *out = std::move(list);
      return Ok();
    };
  }

  // A size: "64G" (helixvol's syntax) or a number of bytes.
  Field Size(int64_t* out) const {
    return [this, out](const nlohmann::json& v, const std::string& path) -> Status {
      if (v.is_number_unsigned() && v.get<uint64_t>() > 0 &&
          v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
        *out = static_cast<int64_t>(v.get<uint64_t>());
        return Ok();
      }
      if (!v.is_string()) return Fail(path, "expected a size (\"64G\"), got " + Type(v));
      auto size = ParseSize(v.get<std::string>());
      if (!size.ok()) return Fail(path, size.error().message());
      *out = static_cast<int64_t>(*size);
      return Ok();
    };
  }

  Field AbsolutePaths(std::vector<std::string>* out) const {
    return Strings(out, [this](std::string* s, const std::string& path) -> Status {
      if ((*s)[0] != '/' || CleanPath(*s) != *s) {
        return Fail(path, Quote(*s) + " is not a clean absolute path");
      }
      return Ok();
    });
  }

  static std::string Type(const nlohmann::json& v) {
    return v.is_number_integer() ? "integer" : std::string(v.type_name());
  }

 private:
  const LocatedJson& doc_;
  std::string_view source_;
};

}  // namespace helix::authz
