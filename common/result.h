// Result<T> and Error: the one way anything in this project reports failure.
//
// An Error carries a kind (what callers branch on), the raw errno when the
// failure came from the kernel (EBUSY on unmount and EEXIST on create need
// different handling), and a message that reads like a sentence a user can
// act on: "attach /pool/v1/disk.img to /dev/loop3: Device or resource busy".
// Outer layers prepend their own context with Wrap().
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace helix {

enum class ErrorKind {
  kInvalidArgument,  // the caller asked for something malformed
  kNotFound,
  kAlreadyExists,
  kBusy,     // the object is in use (mounted, referenced, locked)
  kNoSpace,  // the pool or a filesystem is full or over its reserve
  kSystem,   // the kernel or a tool failed; errno says more
  kTimeout,
};

std::string_view KindName(ErrorKind kind);

class [[nodiscard]] Error {
 public:
  Error(ErrorKind kind, std::string message, int sys_errno = 0)
      : kind_(kind), errno_(sys_errno), message_(std::move(message)) {}

  ErrorKind kind() const { return kind_; }
  // The errno behind a kSystem error, 0 when there is none.
  int sys_errno() const { return errno_; }
  const std::string& message() const { return message_; }

  // Returns the same error with "context: " in front of the message.
  Error Wrap(std::string_view context) const;

 private:
  ErrorKind kind_;
  int errno_;
  std::string message_;
};

// The single place where errno becomes an Error. `what` names the verb and
// the object ("mount /dev/loop3 on /x"); the kind follows from `err`. There is
// no default for `err`: building `what` ("create " + path) may allocate, and
// an allocation may change errno, in whatever order the arguments are
// evaluated. After a failed call, use HELIX_SYS_ERROR, which reads errno
// first; pass a saved errno only when something ran in between.
Error SysError(std::string_view what, int err);

namespace internal {
template <typename What>
Error SysErrorFrom(int err, What&& what) {
  return SysError(what(), err);
}
}  // namespace internal

inline Error InvalidArgument(std::string m) { return {ErrorKind::kInvalidArgument, std::move(m)}; }
inline Error NotFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
inline Error AlreadyExists(std::string m) { return {ErrorKind::kAlreadyExists, std::move(m)}; }
inline Error Busy(std::string m) { return {ErrorKind::kBusy, std::move(m)}; }
inline Error NoSpace(std::string m) { return {ErrorKind::kNoSpace, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_{ErrorKind::kSystem, ""};
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return {}; }

}  // namespace helix

// SysError for the errno a failed call just left: errno is read before the
// message is built (`what` runs only inside the helper).
#define HELIX_SYS_ERROR(what) \
  ::helix::internal::SysErrorFrom(errno, [&]() -> std::string { return (what); })

// Early return on failure, keeping the error as it is.
#define HELIX_TRY(expr)                 \
  do {                                  \
    auto helix_try_status_ = (expr);    \
    if (!helix_try_status_.ok()) {      \
      return helix_try_status_.error(); \
    }                                   \
  } while (0)

// `lhs = *rexpr` for a Result, or an early return with its error as it is:
//   HELIX_ASSIGN_OR_RETURN(auto names, ListDir(dir));
#define HELIX_ASSIGN_OR_RETURN(lhs, rexpr) \
  HELIX_ASSIGN_OR_RETURN_IMPL_(HELIX_RESULT_CONCAT_(helix_result_, __LINE__), lhs, rexpr)
#define HELIX_RESULT_CONCAT_INNER_(a, b) a##b
#define HELIX_RESULT_CONCAT_(a, b) HELIX_RESULT_CONCAT_INNER_(a, b)
#define HELIX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) {                                    \
    return tmp.error();                               \
  }                                                   \
  lhs = std::move(tmp).value()
