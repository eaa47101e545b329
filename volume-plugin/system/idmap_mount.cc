#include "volume-plugin/system/idmap_mount.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "common/quote.h"

namespace helix::vol {

namespace {

bool Overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) { return a < b + bn && b < a + an; }

std::string MapText(const std::vector<IdRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    out += std::to_string(r.inside) + " " + std::to_string(r.outside) + " " +
           std::to_string(r.count) + "\n";
  }
  return out;
}

Status WriteProcFile(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return HELIX_SYS_ERROR("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return HELIX_SYS_ERROR("write " + path);
  }
  return Ok();
}

Error Unsupported(const std::string& step, int err) {
  return Error(ErrorKind::kInvalidArgument,
               "idmapped mounts are not supported here (" + step + ": " + std::strerror(err) +
                   "): they need Linux 5.12 or newer and a filesystem that supports them",
               err);
}

}  // namespace

std::optional<uint32_t> ParseId(std::string_view digits) {
  if (digits.empty() || digits.size() > 10) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n >= 0xffffffffull) return std::nullopt;
  return static_cast<uint32_t>(n);
}

Result<std::vector<IdRange>> ParseIdmap(std::string_view text) {
  const std::string why = "must be CONTAINER:HOST:COUNT[,...] in decimal, as 0:100000:65536";
  std::vector<IdRange> ranges;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    size_t a = part.find(':');
    size_t b = a == std::string_view::npos ? a : part.find(':', a + 1);
    if (b == std::string_view::npos) return InvalidArgument(why);
    auto inside = ParseId(part.substr(0, a));
    auto outside = ParseId(part.substr(a + 1, b - a - 1));
    auto count = ParseId(part.substr(b + 1));
    if (!inside || !outside || !count) return InvalidArgument(why);
    if (*count == 0) return InvalidArgument("a range of 0 ids maps nothing");
    if (uint64_t{*inside} + *count > 0xffffffffull || uint64_t{*outside} + *count > 0xffffffffull) {
      return InvalidArgument("range " + std::string(part) + " runs past the last id");
    }
    for (const auto& r : ranges) {
      if (Overlap(r.inside, r.count, *inside, *count) ||
          Overlap(r.outside, r.count, *outside, *count)) {
        return InvalidArgument("ranges overlap");
      }
    }
    ranges.push_back(IdRange{*inside, *outside, *count});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (ranges.size() > 340) return InvalidArgument("more than 340 ranges");
  return ranges;
}

Result<UniqueFd> MakeIdmapUserNamespace(const std::vector<IdRange>& ranges) {
  int ready[2], done[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return HELIX_SYS_ERROR("pipe");
  UniqueFd ready_r(ready[0]), ready_w(ready[1]);
  if (::pipe2(done, O_CLOEXEC) != 0) return HELIX_SYS_ERROR("pipe");
  UniqueFd done_r(done[0]), done_w(done[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return HELIX_SYS_ERROR("fork");
  if (pid == 0) {
    // Async-signal-safe calls only: the parent has other threads. Its ends
    // of the pipes are closed here, or the read below would never see EOF.
    ::close(ready_r.get());
    ::close(done_w.get());
    char status = ::unshare(CLONE_NEWUSER) == 0 ? 'y' : 'n';
    (void)::write(ready_w.get(), &status, 1);
    char c;
    (void)::read(done_r.get(), &c, 1);  // until the parent has the namespace
    ::_exit(0);
  }
  ready_w.Reset();
  done_r.Reset();
  auto finish = [&] {
    done_w.Reset();
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  };
  char status = 0;
  if (::read(ready_r.get(), &status, 1) != 1 || status != 'y') {
    finish();
    return Unsupported("unshare a user namespace", EPERM);
  }
  const std::string proc = "/proc/" + std::to_string(pid);
  const std::string map = MapText(ranges);
  Status s = WriteProcFile(proc + "/uid_map", map);
  if (s.ok()) s = WriteProcFile(proc + "/gid_map", map);
  if (!s.ok()) {
    finish();
    return s.error().Wrap("idmap " + Quote(map));
  }
  UniqueFd ns(::open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  int err = errno;
  finish();
  if (!ns.valid()) return SysError("open " + proc + "/ns/user", err);
  return ns;
}

Status IdmapBind(const std::string& path, const std::vector<IdRange>& ranges) {
  auto ns = MakeIdmapUserNamespace(ranges);
  if (!ns.ok()) return ns.error();
  UniqueFd tree(static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!tree.valid()) {
    int err = errno;
    if (err == ENOSYS) return Unsupported("open_tree " + path, err);
    return SysError("open_tree " + path, err);
  }
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(ns->get());
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
    int err = errno;
    if (err == ENOSYS || err == EINVAL || err == EPERM) {
      return Unsupported("mount_setattr " + path, err);
    }
    return SysError("mount_setattr " + path, err);
  }
  if (::syscall(SYS_move_mount, tree.get(), "", AT_FDCWD, path.c_str(), MOVE_MOUNT_F_EMPTY_PATH) !=
      0) {
    return HELIX_SYS_ERROR("move_mount the idmapped " + path);
  }
  return Ok();
}

}  // namespace helix::vol
