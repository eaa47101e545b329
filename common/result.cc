#include "common/result.h"

#include <cstring>

namespace helix {

std::string_view KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
      return "invalid argument";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kAlreadyExists:
      return "already exists";
    case ErrorKind::kBusy:
      return "busy";
    case ErrorKind::kNoSpace:
      return "no space";
    case ErrorKind::kSystem:
      return "system";
    case ErrorKind::kTimeout:
      return "timeout";
  }
  return "unknown";
}

Error Error::Wrap(std::string_view context) const {
  std::string m(context);
  m += ": ";
  m += message_;
  return Error(kind_, std::move(m), errno_);
}

Error SysError(std::string_view what, int err) {
  ErrorKind kind = ErrorKind::kSystem;
  switch (err) {
    case ENOENT:
      kind = ErrorKind::kNotFound;
      break;
    case EEXIST:
    case ENOTEMPTY:
      kind = ErrorKind::kAlreadyExists;
      break;
    case EBUSY:
      kind = ErrorKind::kBusy;
      break;
    case ENOSPC:
    case EDQUOT:
      kind = ErrorKind::kNoSpace;
      break;
    case ETIMEDOUT:
      kind = ErrorKind::kTimeout;
      break;
    default:
      break;
  }
  std::string m(what);
  m += ": ";
  m += std::strerror(err);
  return Error(kind, std::move(m), err);
}

}  // namespace helix
