#include "authz-plugin/policy/policy.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <regex>
#include <utility>

#include "authz-plugin/docker/docker_values.h"
#include "authz-plugin/docker/net_addr.h"
#include "authz-plugin/policy/located_json.h"
#include "authz-plugin/policy/policy_reader.h"
#include "common/file_util.h"
#include "common/quote.h"
#include "common/size.h"

namespace helix::authz {
namespace {

using nlohmann::json;

Status ReadClass(const PolicyReader& r, const json& v, const std::string& path, ClassRules* c,
                 PolicyReader::Fields extra = {}) {
  PolicyReader::Fields fields = {
      {"capabilities", r.Strings(&c->capabilities,
                                 [](std::string* s, const std::string&) -> Status {
                                   *s = NormalizeCapability(*s);
                                   return Ok();
                                 })},
      {"security_options",
       r.Strings(&c->security_options,
                 [&r](std::string* s, const std::string& p) -> Status {
                   auto norm = NormalizeSecurityOpt(*s);
                   if (!norm)
                     return r.Fail(p, Quote(*s) + " is not a security option dockerd takes");
                   *s = *norm;
                   return Ok();
                 })},
      {"device_cgroup_rules",
       r.Strings(&c->device_cgroup_rules,
                 [&r](std::string* s, const std::string& p) -> Status {
                   static const std::regex kRule(R"(^[acb] (\d+|\*):(\d+|\*) [rwm]{1,3}$)");
                   if (!std::regex_match(*s, kRule)) {
                     return r.Fail(p, Quote(*s) + " is not a device cgroup rule (\"a *:* rwm\")");
                   }
                   return Ok();
                 })},
      {"devices", r.AbsolutePaths(&c->devices)},
      {"device_requests", r.Bool(&c->device_requests)},
      {"sysctls", r.Strings(&c->sysctls)},
      {"runtimes", r.Strings(&c->runtimes)},
      {"log_drivers", r.Strings(&c->log_drivers)},
  };
  for (auto& f : extra) fields.push_back(std::move(f));
  return r.Object(v, path, fields);
}

Status ReadImages(const PolicyReader& r, const json& v, const std::string& path, DesktopRules* p) {
  std::vector<std::string> entries;
  HELIX_TRY(r.Strings(&entries)(v, path));
  p->image_ids.clear();
  p->image_digests.clear();
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    auto at = e.find('@');
    if (IsImageId(e)) {
      p->image_ids.push_back(e);
    } else if (at != std::string::npos && at > 0 && IsImageId(e.substr(at + 1))) {
      p->image_digests.push_back(e.substr(at + 1));
    } else {
      return r.Fail(path + "[" + std::to_string(i) + "]",
                    Quote(e) +
                        " is not an image ID (sha256:<64 hex>) or repo digest "
                        "(name@sha256:<64 hex>)");
    }
  }
  return Ok();
}

Status ReadLabels(const PolicyReader& r, const json& v, const std::string& path, DesktopRules* p) {
  if (!v.is_object()) return r.Fail(path, "expected an object, got " + PolicyReader::Type(v));
  p->labels.clear();
  for (const auto& [key, value] : v.items()) {
    std::string sub = MemberPath(path, key);
    RequiredLabel label;
    if (value.is_string() && value.get<std::string>() == "*") {
      label.any_value = true;
    } else {
      HELIX_TRY(r.Strings(&label.values)(value, sub));
      if (label.values.empty()) return r.Fail(sub, "expected \"*\" or a non-empty list of values");
    }
    p->labels[key] = std::move(label);
  }
  return Ok();
}

Status ReadLimits(const PolicyReader& r, const json& v, const std::string& path, DesktopRules* p) {
  bool memory = false, cpus = false, pids = false;
  p->max_memory_swap = 0;
  HELIX_TRY(r.Object(
      v, path,
      {{"memory",
        [&](const json& x, const std::string& sub) {
          memory = true;
          return r.Size(&p->max_memory)(x, sub);
        }},
       {"memory_swap", r.Size(&p->max_memory_swap)},
       {"cpus",
        [&](const json& x, const std::string& sub) -> Status {
          if (!x.is_number() || x.get<double>() <= 0 || x.get<double>() > 1e6) {
            return r.Fail(sub, "expected a positive number of CPUs, got " + x.dump());
          }
          cpus = true;
          p->max_nano_cpus = static_cast<int64_t>(std::llround(x.get<double>() * 1e9));
          return Ok();
        }},
       {"pids", [&](const json& x, const std::string& sub) -> Status {
          if (!x.is_number_unsigned() || x.get<uint64_t>() == 0 || x.get<uint64_t>() > (1u << 30)) {
            return r.Fail(sub, "expected a positive whole number, got " + x.dump());
          }
          pids = true;
          p->max_pids = x.get<int64_t>();
          return Ok();
        }}}));
  if (!memory || !cpus || !pids) {
    return r.Fail(path, std::string("needs ") + (!memory ? "memory" : !cpus ? "cpus" : "pids"));
  }
  if (p->max_memory_swap == 0) {
    p->max_memory_swap = p->max_memory > INT64_MAX / 2 ? INT64_MAX : 2 * p->max_memory;
  } else if (p->max_memory_swap < p->max_memory) {
    return r.Fail(MemberPath(path, "memory_swap"),
                  "must be at least \"memory\" (it counts memory plus swap)");
  }
  return Ok();
}

// What the walk saw beyond the values it stored.
struct Seen {
  bool privileged_limits = false;
  bool userns_limits = false;
  bool userns = false;  // a "userns" block (schema version 2)
};

Status ReadDesktop(const PolicyReader& r, const json& v, const std::string& path, DesktopRules* p,
                   bool* has_limits) {
  PolicyReader::Fields extra = {
      {"images", [&](const json& x, const std::string& s) { return ReadImages(r, x, s, p); }},
      {"data_root",
       [&](const json& x, const std::string& s) -> Status {
         std::vector<std::string> one;
         HELIX_TRY(r.AbsolutePaths(&one)(json::array({x}), s));
         p->data_root = one[0];
         return Ok();
       }},
      {"labels", [&](const json& x, const std::string& s) { return ReadLabels(r, x, s, p); }},
      {"data_root_labels", r.Strings(&p->data_root_labels)},
      {"data_root_name",
       [&](const json& x, const std::string& s) -> Status {
         if (!x.is_string()) return r.Fail(s, "expected a name pattern, got " + r.Type(x));
         p->data_root_name = x.get<std::string>();
         return Ok();
       }},
      {"pin_command", r.Bool(&p->pin_command)},
      {"data_root_options",
       [&](const json& x, const std::string& s) -> Status {
         if (!x.is_object()) return r.Fail(s, "expected an object of helixvol options");
         p->data_root_options.clear();
         for (const auto& [key, value] : x.items()) {
           if (key != "owner" && key != "idmap") {
             return r.Fail(MemberPath(s, key), "unknown helixvol option (valid: owner, idmap)");
           }
           if (!value.is_string() || value.get<std::string>().empty()) {
             return r.Fail(MemberPath(s, key), "expected the option's value as a string");
           }
           p->data_root_options[key] = value.get<std::string>();
         }
         return Ok();
       }},
      {"limits",
       [&](const json& x, const std::string& s) {
         *has_limits = true;
         return ReadLimits(r, x, s, p);
       }},
      {"extra_volumes",
       [&](const json& x, const std::string& s) {
         return r.Object(x, s,
                         {{"drivers", r.Strings(&p->extra_volume_drivers)},
                          {"read_only", r.Bool(&p->extra_volumes_read_only)}});
       }},
      {"exec", r.Bool(&p->exec)},
      {"logs", r.Bool(&p->logs)},
  };
  return ReadClass(r, v, path, &p->allowed, std::move(extra));
}

std::function<Status(std::string*, const std::string&)> CheckPool(const PolicyReader& r) {
  return [&r](std::string* s, const std::string& path) -> Status {
    auto net = ParseCidr(*s);
    if (!net) return r.Fail(path, Quote(*s) + " is not an address range (\"10.210.0.0/16\")");
    if (auto reserved = ReservedRange(*net)) {
      return r.Fail(path, Quote(*s) + " overlaps the " + *reserved + " range");
    }
    *s = net->ToString();
    return Ok();
  };
}

}  // namespace

bool ParsePortRange(const std::string& text, PortRule* rule) {
  if (text == "*") {
    rule->any_port = true;
    rule->first = 1;
    rule->last = 65535;
    return true;
  }
  auto number = [](std::string_view t, uint32_t* out) {
    if (t.empty() || t.size() > 5 ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    *out = static_cast<uint32_t>(std::stoul(std::string(t)));
    return *out >= 1 && *out <= 65535;
  };
  const size_t dash = text.find('-');
  if (dash == std::string::npos) {
    if (!number(text, &rule->first)) return false;
    rule->last = rule->first;
    return true;
  }
  return number(std::string_view(text).substr(0, dash), &rule->first) &&
         number(std::string_view(text).substr(dash + 1), &rule->last) && rule->first <= rule->last;
}

namespace {

Status ReadPorts(const PolicyReader& r, const json& v, const std::string& path,
                 std::vector<PortRule>* out) {
  if (!v.is_array()) return r.Fail(path, "expected a list of {host_ip, ports}, got " + r.Type(v));
  std::vector<PortRule> rules;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    PortRule rule;
    std::string ports;
    HELIX_TRY(r.Object(v[i], item,
                       {{"host_ip",
                         [&](const json& x, const std::string& s) -> Status {
                           auto ip = x.is_string() ? ParseIp(x.get<std::string>()) : std::nullopt;
                           if (!ip) return r.Fail(s, x.dump() + " is not an IP address");
                           rule.host_ip = ip->ToString();
                           return Ok();
                         }},
                        {"ports", [&](const json& x, const std::string& s) -> Status {
                           if (!x.is_string() || !ParsePortRange(x.get<std::string>(), &rule)) {
                             return r.Fail(s, x.dump() + " is not \"*\", a port or a range");
                           }
                           ports = x.get<std::string>();
                           return Ok();
                         }}}));
    if (rule.host_ip.empty() || ports.empty()) return r.Fail(item, "needs host_ip and ports");
    rules.push_back(rule);
  }
  *out = std::move(rules);
  return Ok();
}

// The keys a rule set has, at the top level and in a user entry alike.
PolicyReader::Fields RuleFields(const PolicyReader& r, Rules* rules, Seen* seen) {
  return {
      {"image_management", r.Bool(&rules->image_management)},
      {"host_paths", r.AbsolutePaths(&rules->host_paths)},
      {"volume_drivers", r.Strings(&rules->volume_drivers)},
      {"privileged",
       [&r, rules, seen](const json& x, const std::string& s) {
         return ReadDesktop(r, x, s, &rules->privileged, &seen->privileged_limits);
       }},
      {"userns",
       [&r, rules, seen](const json& x, const std::string& s) {
         seen->userns = true;
         return ReadDesktop(r, x, s, &rules->userns, &seen->userns_limits);
       }},
      {"ordinary",
       [&r, rules](const json& x, const std::string& s) {
         return ReadClass(r, x, s, &rules->ordinary);
       }},
      {"helixvol",
       [&r, rules](const json& x, const std::string& s) {
         HelixvolRules* h = &rules->helixvol;
         return r.Object(x, s,
                         {{"drivers", r.Strings(&h->drivers)},
                          {"max_size", r.Size(&h->max_size)},
                          {"allow_shared", r.Bool(&h->allow_shared)},
                          {"from_patterns", r.Strings(&h->from_patterns)},
                          {"snapshot_from_patterns", r.Strings(&h->snapshot_from_patterns)}});
       }},
      {"networks",
       [&r, rules](const json& x, const std::string& s) {
         return r.Object(x, s,
                         {{"drivers", r.Strings(&rules->networks.drivers)},
                          {"options", r.Strings(&rules->networks.options)},
                          {"pools", r.Strings(&rules->networks.pools, CheckPool(r))},
                          {"ipv6", r.Bool(&rules->networks.ipv6)}});
       }},
      {"published_ports",
       [&r, rules](const json& x, const std::string& s) {
         return ReadPorts(r, x, s, &rules->published_ports);
       }},
  };
}

Status CheckRules(const PolicyReader& r, const Rules& rules, const std::string& path,
                  const Seen& seen) {
  for (const auto& [shape, has_limits] : {std::pair{&rules.privileged, seen.privileged_limits},
                                          {&rules.userns, seen.userns_limits}}) {
    if (shape->enabled() && !has_limits) {
      return r.Fail(MemberPath(path, shape->name),
                    "needs \"limits\" (memory, cpus, pids) when \"images\" is not empty");
    }
  }
  return Ok();
}

}  // namespace

const Rules& Policy::RulesFor(const std::string& user) const {
  auto it = users.find(user);
  return it == users.end() ? rules : it->second;
}

Result<std::shared_ptr<const Policy>> ParsePolicy(std::string_view text, std::string_view source) {
  auto doc = ParseLocatedJson(text, source);
  if (!doc.ok()) return doc.error();
  PolicyReader r(*doc, source);
  auto policy = std::make_shared<Policy>();
  policy->source = std::string(source);
  policy->min_api_version = "1.40";
  bool has_version = false;
  Seen seen;
  const json* users = nullptr;
  PolicyReader::Fields fields = RuleFields(r, &policy->rules, &seen);
  fields.push_back({"version", [&](const json& v, const std::string& p) -> Status {
                      if (!v.is_number_unsigned() || v.get<uint64_t>() < 1 ||
                          v.get<uint64_t>() > 2) {
                        return r.Fail(p, "unsupported version " + v.dump() + " (supported: 1, 2)");
                      }
                      policy->version = v.get<int>();
                      has_version = true;
                      return Ok();
                    }});
  fields.push_back({"min_api_version", [&](const json& v, const std::string& p) -> Status {
                      if (!v.is_string() || !CompareApiVersions(v.get<std::string>(), "1.0")) {
                        return r.Fail(p, v.dump() + " is not an API version (\"1.40\")");
                      }
                      policy->min_api_version = v.get<std::string>();
                      return Ok();
                    }});
  fields.push_back({"users", [&](const json& v, const std::string& p) -> Status {
                      if (!v.is_object()) return r.Fail(p, "expected an object of user names");
                      users = &v;
                      return Ok();
                    }});
  HELIX_TRY(r.Object(doc->value, "", fields));
  if (!has_version) return r.Fail("version", "required (1 or 2)");
  HELIX_TRY(CheckRules(r, policy->rules, "", seen));
  if (users != nullptr) {
    for (const auto& [name, entry] : users->items()) {
      std::string path = MemberPath("users", name);
      Rules rules = policy->rules;  // a user entry changes only what it names
      Seen user_seen = seen;
      HELIX_TRY(r.Object(entry, path, RuleFields(r, &rules, &user_seen)));
      HELIX_TRY(CheckRules(r, rules, path, user_seen));
      seen.userns = seen.userns || user_seen.userns;
      policy->users[name] = std::move(rules);
    }
  }
  if (seen.userns && policy->version < 2) {
    return r.Fail("version", "\"userns\" desktops need version 2");
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

Result<std::shared_ptr<const Policy>> LoadPolicy(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error().Wrap("read policy");
  return ParsePolicy(*text, path);
}

}  // namespace helix::authz
