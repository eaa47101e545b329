#include "authz-plugin/decide/request_fields.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "common/quote.h"

namespace helix::authz {

using nlohmann::json;

namespace {

std::string TypeName(const json& v) {
  if (v.is_number_integer()) return "integer";
  return v.type_name();
}

Error WrongType(const std::string& field, const json& v, const std::string& want) {
  return InvalidArgument(field + ": expected " + want + ", got " + TypeName(v));
}

}  // namespace

const json* Member(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  // Go's decoder matches a struct field to a key case-insensitively. The
  // request reader refused keys that collide after folding, and dockerd's
  // own answers use one spelling, so at most one key matches.
  for (const auto& [name, value] : object.items()) {
    if (name.size() != key.size()) continue;
    bool same = true;
    for (size_t i = 0; same && i < name.size(); ++i) {
      same = std::tolower(static_cast<unsigned char>(name[i])) ==
             std::tolower(static_cast<unsigned char>(key[i]));
    }
    if (same) return value.is_null() ? nullptr : &value;
  }
  return nullptr;
}

bool IsZeroValue(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return true;
    case json::value_t::boolean:
      return !value.get<bool>();
    case json::value_t::string:
      return value.get_ref<const std::string&>().empty();
    case json::value_t::array:
    case json::value_t::object:
      return value.empty();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return value == 0;
    default:
      return false;
  }
}

Result<std::string> StringField(const json& object, std::string_view key,
                                const std::string& field) {
  const json* v = Member(object, key);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return WrongType(field, *v, "a string");
  return v->get<std::string>();
}

Result<bool> BoolField(const json& object, std::string_view key, const std::string& field) {
  const json* v = Member(object, key);
  if (v == nullptr) return false;
  if (!v->is_boolean()) return WrongType(field, *v, "true or false");
  return v->get<bool>();
}

Result<int64_t> IntField(const json& object, std::string_view key, const std::string& field) {
  const json* v = Member(object, key);
  if (v == nullptr) return int64_t{0};
  if (v->is_number_unsigned()) {
    if (v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return InvalidArgument(field + ": " + v->dump() + " does not fit in 64 bits");
    }
    return static_cast<int64_t>(v->get<uint64_t>());
  }
  if (!v->is_number_integer()) return WrongType(field, *v, "an integer");
  return v->get<int64_t>();
}

Result<std::vector<std::string>> StringsField(const json& object, std::string_view key,
                                              const std::string& field) {
  std::vector<std::string> out;
  const json* v = Member(object, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return WrongType(field, *v, "a list of strings");
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      return WrongType(field + "[" + std::to_string(i) + "]", (*v)[i], "a string");
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> StringMapField(const json& object, std::string_view key,
                                                          const std::string& field) {
  std::map<std::string, std::string> out;
  const json* v = Member(object, key);
  if (v == nullptr) return out;
  if (!v->is_object()) return WrongType(field, *v, "an object of strings");
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) return WrongType(field + "[" + Quote(k) + "]", value, "a string");
    out[k] = value.get<std::string>();
  }
  return out;
}

Result<std::vector<json>> ObjectsField(const json& object, std::string_view key,
                                       const std::string& field) {
  std::vector<json> out;
  const json* v = Member(object, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return WrongType(field, *v, "a list of objects");
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_object()) {
      return WrongType(field + "[" + std::to_string(i) + "]", (*v)[i], "an object");
    }
    out.push_back((*v)[i]);
  }
  return out;
}

}  // namespace helix::authz
