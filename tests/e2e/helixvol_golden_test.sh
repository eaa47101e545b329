#!/usr/bin/env bash
# Golden data roots on a real dockerd: a snapshot of a golden volume, clones of
# it by reflink, and DEFAULT_FROM applied to volumes dockerd creates on the fly
# (but not to anonymous ones).
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
engine_start outer
image_busybox
helixvol_install_managed helixvol
bb=helix-e2e/busybox

docker volume create -d helixvol -o size=256M gold-rw >/dev/null
docker run --rm -v gold-rw:/data $bb sh -c 'echo preloaded > /data/image-cache'
docker volume create -d helixvol -o from=gold-rw -o snapshot=true golden >/dev/null
status=$(docker volume inspect golden --format '{{json .Status}}')
assert_contains "$status" '"snapshot":true' "the golden snapshot is immutable"
assert_fails docker run --rm -v golden:/data $bb sh -c 'echo x > /data/new'
e2e_pass "a snapshot cannot be written from a container"

docker volume create -d helixvol -o from=golden -o size=512M s1 >/dev/null
status=$(docker volume inspect s1 --format '{{json .Status}}')
assert_contains "$status" '"clone_method":"reflink"' "a clone of the snapshot is a reflink"
assert_contains "$status" '"size":"512MiB"' "grown to the size asked for"
assert_eq preloaded "$(docker run --rm -v s1:/data $bb cat /data/image-cache)" \
  "the clone holds the golden content"
docker run --rm -v s1:/data $bb sh -c 'echo changed > /data/image-cache'
assert_eq preloaded "$(docker run --rm -v gold-rw:/data $bb cat /data/image-cache)" \
  "writing the clone leaves the source alone"

# DEFAULT_FROM: settable only while disabled; volumes exist, hence -f.
docker plugin disable -f helixvol >/dev/null
docker plugin set helixvol DEFAULT_FROM=golden
docker plugin enable helixvol >/dev/null
assert_eq preloaded "$(docker run --rm --volume-driver helixvol -v s2:/data $bb cat /data/image-cache)" \
  "a volume created on the fly is cloned from DEFAULT_FROM"
assert_contains "$(docker volume inspect s2 --format '{{json .Status}}')" '"clone_source":"golden"' \
  "inspect names the clone source"
anon=$(docker run -d --volume-driver helixvol -v /data $bb sleep 600)
anon_vol=$(docker inspect "$anon" --format '{{range .Mounts}}{{.Name}}{{end}}')
assert_eq "" "$(docker exec "$anon" ls -A /data)" "an anonymous volume is not a golden clone"
docker rm -f "$anon" >/dev/null
docker volume rm "$anon_vol" >/dev/null
docker volume create -d helixvol -o from= -o size=64M plain >/dev/null
assert_eq "" "$(docker run --rm -v plain:/data $bb ls -A /data)" "-o from= opts out"

assert_fails docker volume create -d helixvol -o from=nope bad1
assert_contains "$E2E_LAST_ERR" 'clone source "nope" not found' "an unknown source is refused"
assert_fails docker volume create -d helixvol -o from=golden -o size=64M bad2
assert_contains "$E2E_LAST_ERR" 'smaller than the source volume "golden"' "a shrink is refused"
assert_fails docker volume create -d helixvol -o snapshot=true bad3
assert_contains "$E2E_LAST_ERR" 'needs from=<volume> to snapshot' "snapshot needs from"
assert_eq "" "$(docker volume ls -q | grep '^bad' || true)" "bad input created nothing"
