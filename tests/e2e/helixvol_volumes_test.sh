#!/usr/bin/env bash
# helixvol as a managed plugin of a real dockerd: create, inspect, run, persist,
# remove; volumes made on the fly; exclusivity and docker cp; bad input through
# the docker CLI. (Issue "helixvol on a real Docker engine", tests 1, 2, 3, 6.)
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
engine_start outer
image_busybox
plugin=helixvol
helixvol_install_managed "$plugin"
state=$E2E_DIR/$plugin-state
bb=helix-e2e/busybox

# 1. create, inspect, run, persist, remove -----------------------------------------------------
docker volume create -d "$plugin" -o size=2G v1 >/dev/null
status=$(docker volume inspect v1 --format '{{json .Status}}')
assert_contains "$status" '"size":"2GiB"' "inspect shows the size"
assert_contains "$status" '"mounted":false' "inspect shows it unmounted"
assert_contains "$status" '"pool_free_bytes":' "inspect shows the pool's free space"
fstype=$(docker run --rm -v v1:/data $bb sh -c "awk '\$2 == \"/data\" {print \$3}' /proc/mounts")
assert_eq ext4 "$fstype" "the container sees ext4 at /data"
kb=$(docker run --rm -v v1:/data $bb df -k /data | awk 'NR == 2 {print $2}')
if ((kb > 1900000 && kb <= 2097152)); then e2e_pass "filesystem is 2 GiB ($kb KiB)"; else
  e2e_fail "filesystem size $kb KiB is not about 2 GiB"; fi
assert_eq "" "$(docker run --rm -v v1:/data $bb ls -A /data)" "a new volume looks empty"
docker run --rm -v v1:/data $bb sh -c 'echo persisted > /data/f'
assert_eq persisted "$(docker run --rm -v v1:/data $bb cat /data/f)" \
  "data survives into a second container"
assert_eq "" "$(helixvol_loops_for "$state")" "no loop device once no container uses it"
docker volume rm v1 >/dev/null
assert_eq "" "$(ls "$state/volumes")" "volume rm removes the image"

# 2. created on the fly by docker run ---------------------------------------------------------
docker run --rm --volume-driver "$plugin" -v auto1:/data $bb true
assert_eq "$plugin:latest" "$(docker volume inspect auto1 --format '{{.Driver}}')" \
  "docker run --volume-driver creates the volume"
assert_contains "$(docker volume inspect auto1 --format '{{json .Status}}')" '"size":"20GiB"' \
  "with DEFAULT_SIZE"

# 3. exclusivity and docker cp -----------------------------------------------------------------
docker volume create -d "$plugin" -o size=64M v3 >/dev/null
docker run -d --name c1 -v v3:/data $bb sleep 600 >/dev/null
assert_fails docker run --rm -v v3:/data $bb true
assert_contains "$E2E_LAST_ERR" "in use by another container" \
  "a second container is refused with the plugin's message"
echo copied >"$E2E_DIR/cp-src"
docker cp "$E2E_DIR/cp-src" c1:/data/cp-dst
assert_eq copied "$(docker exec c1 cat /data/cp-dst)" "docker cp into a running container works"
assert_contains "$(docker volume inspect v3 --format '{{json .Status}}')" \
  '"mount_references":1' "docker cp's mount was counted and released"
docker rm -f c1 >/dev/null
assert_eq "" "$(helixvol_loops_for "$state")" "stopping the container detaches the loop"
docker run --rm -v v3:/data $bb true
e2e_pass "the volume is free again after the container is gone"

# 6. bad input through the docker CLI ----------------------------------------------------------
assert_fails docker volume create -d "$plugin" -o size=abc x1
assert_contains "$E2E_LAST_ERR" 'invalid option size="abc": size "abc" is not a size' \
  "a bad size is refused with the plugin's message"
assert_fails docker volume create -d "$plugin" -o bogus=1 x2
assert_contains "$E2E_LAST_ERR" 'invalid option "bogus" (valid: exclusive, from, idmap, owner, size, snapshot)' \
  "an unknown option is refused with the plugin's message"
volumes=$(docker volume ls -q)
assert_eq "" "$(grep -x -e x1 -e x2 <<<"$volumes" || true)" "no volume appears for bad input"
assert_eq "" "$(ls "$state/volumes" | grep -v -x -e auto1 -e v3 || true)" \
  "nothing was made in the pool"
