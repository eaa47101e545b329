#!/usr/bin/env bash
# helixvol preload on a real dockerd: bad input and a failure half-way leave nothing behind;
# a preload of two images (one from the engine, one from an archive file) gives a snapshot
# from which a desktop's inner engine runs the images without loading anything.
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
engine_start outer
image_busybox
image_dind
helixvol_install_managed helixvol
bb=helix-e2e/busybox
helixvol=${HELIXVOL_BINARY:?}
mapfile -t shape <<<"$(helixvol_preload_shape)"
mapfile -t priv <<<"$(privileged_flags)"

# leftovers: what a preload run may have left: its containers and volumes.
leftovers() {
  docker ps -aq --filter label=io.helix.preload
  docker volume ls -q | grep '^helixvol-preload-' || true
}

# Bad input: refused before anything is made.
assert_fails "$helixvol" preload --engine-image helix-e2e/dind --image $bb
assert_contains "$E2E_LAST_ERR" '--name (the snapshot to make) is required' "--name is required"
assert_fails "$helixvol" preload --name gold --engine-image helix-e2e/dind
assert_contains "$E2E_LAST_ERR" 'nothing to load' "something to load is required"
assert_fails "$helixvol" preload --name gold --engine-image helix-e2e/dind --image nope:1
assert_contains "$E2E_LAST_ERR" '--image "nope:1": GET /images/nope:1/json: no such image: nope:1' \
  "an image the engine lacks is named"
assert_fails "$helixvol" preload --name gold --engine-image helix-e2e/dind --archive /nonexistent.tar
assert_contains "$E2E_LAST_ERR" '--archive "/nonexistent.tar": cannot be read' \
  "an unreadable archive is named"
assert_fails "$helixvol" preload --name gold --engine-image helix-e2e/dind --image $bb --size 1X
assert_contains "$E2E_LAST_ERR" '--size "1X"' "a bad size is named"
docker volume create taken >/dev/null
assert_fails "$helixvol" preload --name taken --engine-image helix-e2e/dind --image $bb
assert_contains "$E2E_LAST_ERR" '--name "taken": a volume of that name exists' \
  "an existing name is refused"
docker volume rm taken >/dev/null
assert_eq "" "$(leftovers)" "bad input made nothing"

# A failure half-way: an archive the inner engine cannot load.
head -c 100000 /dev/urandom >"$E2E_DIR/garbage.tar"
assert_fails "$helixvol" preload --name gold --engine-image helix-e2e/dind "${shape[@]}" \
  --size 2G --image $bb --archive "$E2E_DIR/garbage.tar"
assert_contains "$E2E_LAST_ERR" "preload exited with code 1" "a failed load fails the preload"
assert_eq "" "$(leftovers)" "the failed preload removed its containers and volumes"
assert_fails docker volume inspect gold
e2e_pass "no snapshot from a failed preload"

# An interrupt while the inner engine loads: the run stops and cleans up.
"$helixvol" preload --name gold --engine-image helix-e2e/dind "${shape[@]}" --size 2G \
  --image $bb >"$E2E_DIR/interrupted.out" 2>&1 &
preload_pid=$!
e2e_retry 60 grep -q '^loading:' "$E2E_DIR/interrupted.out" || e2e_fail "preload never reached the load"
kill -INT "$preload_pid"
status=0
wait "$preload_pid" || status=$?
assert_eq 1 "$status" "an interrupted preload exits 1"
assert_contains "$(cat "$E2E_DIR/interrupted.out")" "interrupted" "and says why"
assert_eq "" "$(leftovers)" "the interrupted preload removed its containers and volumes"
assert_fails docker volume inspect gold

# The real thing: one image from the engine, one from an archive file.
docker tag $bb helix-e2e/tools:1.0
docker save helix-e2e/tools:1.0 >"$E2E_DIR/tools.tar"
docker rmi helix-e2e/tools:1.0 >/dev/null
"$helixvol" preload --name golden --engine-image helix-e2e/dind "${shape[@]}" --size 2G \
  --image $bb --archive "$E2E_DIR/tools.tar" --label purpose=e2e >"$E2E_DIR/preload.out"
cat "$E2E_DIR/preload.out"
out=$(cat "$E2E_DIR/preload.out")
assert_contains "$out" "[1/2] image $bb:" "progress names the image"
assert_contains "$out" "[2/2] archive $E2E_DIR/tools.tar:" "progress names the archive"
assert_contains "$out" "Loaded image: helix-e2e/tools:1.0" "the inner engine's own words are relayed"
assert_contains "$out" 'done: snapshot "golden"' "the run says what it made"
assert_contains "$(docker volume inspect golden --format '{{json .Status}}')" '"snapshot":true' \
  "the golden data root is a snapshot"
assert_eq "" "$(leftovers)" "a successful preload leaves only the snapshot"

# A desktop whose data root is cloned from the snapshot has the images at once.
docker volume create -d helixvol -o from=golden session-1 >/dev/null
docker run -d --name desktop-1 "${priv[@]}" -v session-1:/var/lib/docker helix-e2e/dind >/dev/null
e2e_retry 60 docker exec desktop-1 docker version || e2e_fail "the inner engine did not start"
images=$(docker exec desktop-1 docker image ls --format '{{.Repository}}:{{.Tag}}' | sort | xargs)
assert_eq "helix-e2e/busybox:latest helix-e2e/tools:1.0" "$images" \
  "the inner engine lists both preloaded images"
assert_eq "hello" "$(docker exec desktop-1 docker run --rm helix-e2e/tools:1.0 echo hello)" \
  "a preloaded image runs inside without a load or a pull"
docker rm -f desktop-1 >/dev/null
docker volume rm session-1 golden >/dev/null
e2e_pass "preload"
