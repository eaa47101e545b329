#!/usr/bin/env bash
# Assembles a managed-plugin bundle offline: OUT/config.json + OUT/rootfs/,
# with no base image and no registry (sandbox hosts are often air-gapped).
#
#   rootfs/build.sh OUT CONFIG BINARY [TOOL...]
#
# The rootfs holds BINARY as /usr/bin/<name>, each TOOL (looked up in PATH)
# at its host path, the shared libraries all of them load (their ldd
# closure, with the dynamic loader), and the few files the tools read.
# Timestamps are pinned so that the same inputs give the same tree.
set -euo pipefail

out=$1 config=$2 binary=$3
shift 3
root=$out/rootfs
rm -rf "$out"
mkdir -p "$root"/{usr/bin,etc,dev,proc,sys,tmp,run/docker/plugins}
chmod 1777 "$root/tmp"
# Mount points the manifest names: a directory, or an empty file for a
# socket (a destination ending in .sock, or a default source that is a file).
python3 - "$config" "$root" <<'PY'
import json, os, stat, sys
config, root = json.load(open(sys.argv[1])), sys.argv[2]
points = [(m["destination"], m.get("source", "")) for m in config.get("mounts", [])]
if config.get("propagatedMount"):
    points.append((config["propagatedMount"], ""))
for dest, source in points:
    path = root + dest
    is_file = dest.endswith(".sock")
    try:
        is_file = is_file or (bool(source) and not stat.S_ISDIR(os.stat(source).st_mode))
    except OSError:
        pass
    if is_file:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "a").close()
    else:
        os.makedirs(path, exist_ok=True)
PY

copy() {  # copy FILE into the rootfs at the same path, resolving symlinks
  local src=$1 dst=$root$1
  mkdir -p "$(dirname "$dst")"
  cp -L --preserve=mode "$src" "$dst"
}

libs_of() {  # the absolute paths ldd resolves for FILE
  ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
}

# Debug info is for the build tree, not for every host that installs it.
strip --strip-unneeded -o "$root/usr/bin/$(basename "$binary")" "$binary"
files=("$binary")
for tool in "$@"; do
  path=$(command -v "$tool") || { echo "rootfs: tool $tool not found" >&2; exit 1; }
  copy "$path"
  files+=("$path")
done
declare -A seen=()
for f in "${files[@]}"; do
  for lib in $(libs_of "$f"); do
    [ -n "${seen[$lib]:-}" ] && continue
    seen[$lib]=1
    copy "$lib"
  done
done

# Files the tools read at run time.
[ -f /etc/mke2fs.conf ] && copy /etc/mke2fs.conf
# e2fsprogs look in /etc/mtab for whether an image is mounted.
ln -s ../proc/self/mounts "$root/etc/mtab"
printf 'root:x:0:0:root:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

cp "$config" "$out/config.json"
find "$out" -exec touch -h -d @0 {} +
echo "rootfs: $(du -sh "$root" | cut -f1) in $root"
