// KernelMounter: mounts through libmount, the table from mountinfo (mounter.h).
#include "volume-plugin/system/mounter.h"

#include "volume-plugin/system/idmap_mount.h"

#include <fcntl.h>
#include <libmount/libmount.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>
#include <memory>

#include "common/quote.h"
#include "common/unique_fd.h"
#include "volume-plugin/system/idmap_mount.h"

namespace helix::vol {
namespace {

struct ContextFree {
  void operator()(libmnt_context* cxt) const { mnt_free_context(cxt); }
};
using Context = std::unique_ptr<libmnt_context, ContextFree>;

// A context that calls the syscall itself and keeps no userspace mount table.
Result<Context> NewContext(const std::string& what) {
  Context cxt(mnt_new_context());
  if (!cxt) {
    return SysError(what, ENOMEM);
  }
  if (int rc = mnt_context_disable_helpers(cxt.get(), 1); rc != 0) {
    return SysError(what, -rc);
  }
  if (int rc = mnt_context_disable_mtab(cxt.get(), 1); rc != 0) {
    return SysError(what, -rc);
  }
  return cxt;
}

// Turns what libmount reports after mnt_context_mount/umount into a Status.
// The syscall's errno is the most precise answer, so it wins; libmount's own
// failures come as negative errnos, or as MNT_ERR_* codes that only its
// message explains.
Status Outcome(libmnt_context* cxt, int rc, const std::string& what) {
  if (rc == 0 && mnt_context_get_status(cxt) == 1) {
    return Ok();
  }
  if (mnt_context_syscall_called(cxt)) {
    if (int err = mnt_context_get_syscall_errno(cxt); err != 0) {
      return SysError(what, err);
    }
  }
  if (mnt_context_helper_executed(cxt)) {
    return Error(ErrorKind::kSystem, what + ": helper exited with status " +
                                         std::to_string(mnt_context_get_helper_status(cxt)));
  }
  if (rc > 0) {  // mount(2)'s errno, for a libmount that did not record it
    return SysError(what, rc);
  }
  if (rc < 0 && -rc < MNT_ERR_NOFSTAB) {
    return SysError(what, -rc);
  }
  char buf[512] = {};
  mnt_context_get_excode(cxt, rc, buf, sizeof(buf));
  std::string message = buf[0] != '\0' ? buf : "libmount error " + std::to_string(rc);
  return Error(ErrorKind::kSystem, what + ": " + message);
}

// Undoes the kernel's octal escapes (mangle() in fs/proc_namespace.c).
std::string Unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      char a = field[i + 1];
      char b = field[i + 2];
      char c = field[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out += static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0'));
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

// Fields are separated by exactly one space; an empty source (mount -t tmpfs
// "" /x) shows up as two spaces in a row and must stay an empty field.
std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  if (line.empty()) {
    return fields;
  }
  size_t start = 0;
  for (;;) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

// "7:3" -> makedev(7, 3); anything else -> 0, which no mounted device has.
dev_t ParseDevice(std::string_view field) {
  unsigned maj = 0;
  unsigned min = 0;
  size_t colon = field.find(':');
  if (colon == std::string_view::npos) {
    return 0;
  }
  auto [end1, ec1] = std::from_chars(field.data(), field.data() + colon, maj);
  auto [end2, ec2] = std::from_chars(field.data() + colon + 1, field.data() + field.size(), min);
  if (ec1 != std::errc() || ec2 != std::errc() || end2 != field.data() + field.size()) {
    return 0;
  }
  return makedev(maj, min);
}

}  // namespace

std::vector<MountEntry> ParseMountInfo(std::string_view text) {
  // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
  // (0)(1)(2)   (3)   (4)      (5)      (6...)  -  fstype source super-options
  constexpr size_t kFieldsBeforeOptional = 6;
  std::vector<MountEntry> entries;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) {
      eol = text.size();
    }
    std::vector<std::string_view> fields = SplitFields(text.substr(pos, eol - pos));
    pos = eol + 1;
    size_t sep = kFieldsBeforeOptional;
    while (sep < fields.size() && fields[sep] != "-") {
      ++sep;
    }
    if (sep + 2 >= fields.size()) {  // no separator, or no fstype and source after it
      continue;
    }
    entries.push_back(MountEntry{
        .source = Unescape(fields[sep + 2]),
        .target = Unescape(fields[4]),
        .fstype = Unescape(fields[sep + 1]),
        .options = Unescape(fields[5]),
        .device = ParseDevice(fields[2]),
        .super_options = sep + 3 < fields.size() ? Unescape(fields[sep + 3]) : "",
    });
  }
  return entries;
}

Status KernelMounter::Mount(const std::string& source, const std::string& target,
                            const std::string& fstype, const std::string& options) {
  std::string what = "mount " + source + " on " + target;
  HELIX_ASSIGN_OR_RETURN(auto cxt, NewContext(what));
  libmnt_context* c = cxt.get();
  // mount(8) retries a refused read-write mount as read-only; a volume that
  // silently came up read-only would fail later and far from the cause.
  int rc = mnt_context_enable_rwonly_mount(c, 1);
  if (rc == 0) {
    rc = mnt_context_set_source(c, source.c_str());
  }
  if (rc == 0) {
    rc = mnt_context_set_target(c, target.c_str());
  }
  if (rc == 0 && !fstype.empty()) {
    rc = mnt_context_set_fstype(c, fstype.c_str());
  }
  if (rc == 0 && !options.empty()) {
    rc = mnt_context_set_options(c, options.c_str());
  }
  if (rc != 0) {
    return SysError(what, -rc);
  }
  return Outcome(c, mnt_context_mount(c), what);
}

Status KernelMounter::Unmount(const std::string& target) {
  std::string what = "unmount " + target;
  HELIX_ASSIGN_OR_RETURN(auto cxt, NewContext(what));
  libmnt_context* c = cxt.get();
  if (int rc = mnt_context_set_target(c, target.c_str()); rc != 0) {
    return SysError(what, -rc);
  }
  return Outcome(c, mnt_context_umount(c), what);
}

Result<std::vector<MountEntry>> KernelMounter::List() {
  constexpr const char* kPath = "/proc/self/mountinfo";
  UniqueFd fd(::open(kPath, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return SysError(std::string("read ") + kPath, err);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      return SysError(std::string("read ") + kPath, err);
    }
    if (n == 0) {
      break;
    }
    text.append(buf, static_cast<size_t>(n));
  }
  return ParseMountInfo(text);
}

Status KernelMounter::IdmapBind(const std::string& path, const std::string& idmap) {
  auto ranges = ParseIdmap(idmap);
  if (!ranges.ok()) return ranges.error().Wrap("idmap " + Quote(idmap));
  return helix::vol::IdmapBind(path, *ranges);
}

}  // namespace helix::vol
