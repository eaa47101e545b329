// Quoting user-supplied values in messages, the way Docker's own errors do:
// `invalid option "sise"`. Control characters and quotes are escaped so a
// name holding a NUL byte or a newline cannot garble a log line.
#pragma once

#include <string>
#include <string_view>

namespace helix {

// "abc" -> "\"abc\""; a NUL byte becomes \u0000, a quote \", a backslash \\.
std::string Quote(std::string_view value);

}  // namespace helix
