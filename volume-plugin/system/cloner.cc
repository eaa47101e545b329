// KernelCloner: FICLONE, or a hole-preserving copy, and extent counts (cloner.h).
#include "volume-plugin/system/cloner.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/unique_fd.h"

namespace helix::vol {
namespace {

constexpr size_t kCopyChunk = size_t{1} << 20;
// Extents asked for per FIEMAP call: a fragmented image may have many more
// than fit in one reasonably sized buffer.
constexpr uint32_t kFiemapBatch = 512;

// Copies [begin, end) of `in` to the same offsets of `out`; 0 or an errno.
int CopyRange(int in, int out, off_t begin, off_t end, std::vector<char>& buf) {
  off_t pos = begin;
  while (pos < end) {
    size_t want = static_cast<size_t>(std::min<off_t>(end - pos, static_cast<off_t>(buf.size())));
    ssize_t got = ::pread(in, buf.data(), want, pos);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (got == 0) {  // the source shrank under us: what is left reads as zeros
      return 0;
    }
    size_t done = 0;
    while (done < static_cast<size_t>(got)) {
      ssize_t put = ::pwrite(out, buf.data() + done, static_cast<size_t>(got) - done,
                             pos + static_cast<off_t>(done));
      if (put < 0) {
        if (errno == EINTR) {
          continue;
        }
        return errno;
      }
      done += static_cast<size_t>(put);
    }
    pos += got;
  }
  return 0;
}

// Copies the data ranges of `in` into `out`, which already has its size, so
// the holes in between stay holes. Returns 0 or an errno.
int CopySparse(int in, int out) {
  std::vector<char> buf(kCopyChunk);
  off_t pos = 0;
  for (;;) {
    off_t data = ::lseek(in, pos, SEEK_DATA);
    if (data < 0) {
      return errno == ENXIO ? 0 : errno;  // ENXIO: no data past pos
    }
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) {
      return errno;
    }
    if (int err = CopyRange(in, out, data, hole, buf); err != 0) {
      return err;
    }
    pos = hole;
  }
}

// Calls `visit` on every extent of the file open as `fd`; returns 0 or an
// errno from FS_IOC_FIEMAP.
template <typename Visit>
int ForEachExtent(int fd, Visit visit) {
  std::vector<char> buf(sizeof(fiemap) + kFiemapBatch * sizeof(fiemap_extent));
  auto* map = reinterpret_cast<fiemap*>(buf.data());
  uint64_t start = 0;
  uint32_t flags = FIEMAP_FLAG_SYNC;
  for (;;) {
    std::fill(buf.begin(), buf.end(), 0);
    map->fm_start = start;
    map->fm_length = FIEMAP_MAX_OFFSET - start;
    map->fm_flags = flags;
    map->fm_extent_count = kFiemapBatch;
    if (::ioctl(fd, FS_IOC_FIEMAP, map) != 0) {
      return errno;
    }
    flags = 0;  // flushed once is enough
    if (map->fm_mapped_extents == 0) {
      return 0;
    }
    for (uint32_t i = 0; i < map->fm_mapped_extents; ++i) {
      const fiemap_extent& e = map->fm_extents[i];
      visit(e);
      if ((e.fe_flags & FIEMAP_EXTENT_LAST) != 0) {
        return 0;
      }
    }
    const fiemap_extent& last = map->fm_extents[map->fm_mapped_extents - 1];
    start = last.fe_logical + last.fe_length;
  }
}

Result<UniqueFd> OpenForFiemap(const std::string& path, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int err = errno;
    return SysError(what, err);
  }
  return fd;
}

}  // namespace

Status KernelCloner::Clone(const std::string& src, const std::string& dst, CloneMethod method) {
  std::string what = std::string(CloneMethodName(method)) + " " + src + " to " + dst;
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) {
    int err = errno;
    return SysError(what + ": open " + src, err);
  }
  UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) {
    // Not ours to remove: it existed before, or was never made.
    int err = errno;
    return SysError(what + ": create " + dst, err);
  }
  // `step` is a literal, so building the message cannot disturb errno first.
  auto fail = [&](const char* step, int err) -> Status {
    out.Reset();
    ::unlink(dst.c_str());
    return SysError(what + step, err);
  };
  if (method == CloneMethod::kReflink) {
    if (::ioctl(out.get(), FICLONE, in.get()) != 0) {
      return fail("", errno);
    }
  } else {
    struct stat st;
    if (::fstat(in.get(), &st) != 0) {
      return fail(": stat source", errno);
    }
    if (::ftruncate(out.get(), st.st_size) != 0) {
      return fail(": set size", errno);
    }
    if (int err = CopySparse(in.get(), out.get()); err != 0) {
      return fail("", err);
    }
  }
  if (::fsync(out.get()) != 0) {
    return fail(": fsync", errno);
  }
  return Ok();
}

Result<std::optional<uint64_t>> KernelCloner::SharedBytes(const std::string& path) {
  std::string what = "find shared extents of " + path;
  HELIX_ASSIGN_OR_RETURN(auto fd, OpenForFiemap(path, what));
  uint64_t shared = 0;
  int err = ForEachExtent(fd.get(), [&](const fiemap_extent& e) {
    if ((e.fe_flags & FIEMAP_EXTENT_SHARED) != 0) {
      shared += e.fe_length;
    }
  });
  if (err == EOPNOTSUPP) {
    return std::optional<uint64_t>();
  }
  if (err != 0) {
    return SysError(what, err);
  }
  return std::optional<uint64_t>(shared);
}

Result<uint64_t> KernelCloner::ExtentCount(const std::string& path) {
  std::string what = "count extents of " + path;
  HELIX_ASSIGN_OR_RETURN(auto fd, OpenForFiemap(path, what));
  // fm_extent_count = 0 asks only how many there are.
  fiemap map{};
  map.fm_start = 0;
  map.fm_length = FIEMAP_MAX_OFFSET;
  map.fm_flags = FIEMAP_FLAG_SYNC;
  map.fm_extent_count = 0;
  if (::ioctl(fd.get(), FS_IOC_FIEMAP, &map) != 0) {
    int err = errno;
    return SysError(what, err);
  }
  return uint64_t{map.fm_mapped_extents};
}

}  // namespace helix::vol
