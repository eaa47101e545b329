#!/usr/bin/env bash
# The helixvol scenario, spoken to the plugin's socket the way dockerd speaks
# to it: create a 1 GiB data root, mount it, write into it, unmount, inspect.
# Runs against a private state directory and socket and removes them after.
set -euo pipefail

HELIXVOL=${1:-build/helixvol}
if [ "$(id -u)" != 0 ]; then
  echo "demo: needs root (loop devices and mounts)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/helixvol-demo.XXXXXX)
sock=$work/helixvol.sock
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  umount -R "$work/mounts" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

call() {  # call ENDPOINT JSON: POST as dockerd does, print the answer
  local answer
  answer=$(curl -sS --unix-socket "$sock" -H 'Content-Type: application/json' \
    -d "$2" "http://plugin/VolumeDriver.$1")
  printf '  -> %s\n' "$answer" >&2
  printf '%s' "$answer"
}

echo "== starting helixvol (state in $work/state)"
LOG_LEVEL=warn "$HELIXVOL" serve --socket "$sock" --state-dir "$work/state" \
  --mount-root "$work/mounts" &
pid=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')

echo "== Create demo1, 1 GiB"
start=$(date +%s%N)
call Create '{"Name":"demo1","Opts":{"size":"1G"}}' >/dev/null
echo "   created in $(( ($(date +%s%N) - start) / 1000000 )) ms"

echo "== Mount demo1 for container $id"
mnt=$(call Mount "{\"Name\":\"demo1\",\"ID\":\"$id\"}" | sed -n 's/.*"Mountpoint":"\([^"]*\)".*/\1/p')
echo "   mounted at $mnt:"
findmnt -no SOURCE,FSTYPE,SIZE,OPTIONS --target "$mnt" | sed 's/^/   /'

echo "== Writing 64 MiB into it"
dd if=/dev/urandom of="$mnt/blob" bs=1M count=64 status=none
sync

echo "== A second container asking for the same data root is refused"
call Mount '{"Name":"demo1","ID":"another-container"}' >/dev/null || true

echo "== Get demo1 while mounted"
call Get '{"Name":"demo1"}' >/dev/null

echo "== Unmount demo1"
call Unmount "{\"Name\":\"demo1\",\"ID\":\"$id\"}" >/dev/null
if losetup -j "$work/state/volumes/demo1/disk.img" | grep -q .; then
  echo "   loop device still attached!" >&2
  exit 1
fi
echo "   unmounted, loop device detached"

echo "== Get demo1 after unmount"
call Get '{"Name":"demo1"}' >/dev/null

echo "== Bad input is refused, nothing created"
call Create '{"Name":"../escape","Opts":{}}' >/dev/null
call Create '{"Name":"x2","Opts":{"size":"abc"}}' >/dev/null
call List '{}' >/dev/null

echo "== Remove demo1"
call Remove '{"Name":"demo1"}' >/dev/null
echo "demo done"
