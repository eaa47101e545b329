// Small string helpers that both plugins (and their tests) need, defined once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace helix {

// ASCII lower case: only A-Z change, whatever the locale (Go's
// strings.ToLower agrees on ASCII, and dockerd's keys and values are ASCII).
std::string Lower(std::string_view s);

// `n` random hex digits, for names that must not collide (temporary
// directories, stage containers); not for secrets.
std::string RandomHex(size_t n);

}  // namespace helix
