#!/usr/bin/env bash
# helixvol across restarts, with running containers holding its volumes. Managed plugin:
#   1. dockerd restarted with live-restore and no container running;
#   2. the plugin killed with SIGKILL: dockerd restarts it, references are recovered;
#   3. `docker plugin disable -f` and `enable`: the running container's loop device is reused,
#      never doubled, never leaked;
#   4. dockerd restarted with live-restore, containers running; docker cp afterwards.
# Host service:
#   5. dockerd restarted with live-restore, a container running;
#   6. the service killed and started again, a container running.
# After each, the container's data is intact, the volume is listed and usable, and stopping
# the container leaves no loop device. (Issue "helixvol on a real Docker engine", restart
# tests; docs/install.md, "Which one for a sandbox host" and "Restarting dockerd".)
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
bb=helix-e2e/busybox

status_of() {
  docker volume inspect "$1" --format '{{json .Status}}'
}

# loops_of STATE VOLUME: the loop devices bound to that one volume's image, found wherever
# the pool keeps it under the state directory; a line saying so when it is nowhere, so that
# no assertion passes for want of a volume to look at.
loops_of() {
  local dir
  dir=$(find "$1" -maxdepth 3 -type d -path "*/volumes/$2" -print -quit)
  if [[ -z $dir ]]; then
    echo "no directory for volume $2 under $1"
    return 0
  fi
  helixvol_loops_for "$dir"
}

loop_count() {
  loops_of "$1" "$2" | grep -c '^/dev/'
}

# assert_no_loops STATE VOLUME WHAT: the loop device autoclears once the last mount of it
# goes, which is the container's copy; its mount namespace may be torn down a moment after
# `docker rm -f` returns.
assert_no_loops() {
  e2e_retry 10 no_loops "$1" "$2" || true
  assert_eq "" "$(loops_of "$1" "$2")" "$3"
}
no_loops() {
  [[ -z $(loops_of "$1" "$2") ]]
}

# assert_usable VOLUME WANT: a new container gets the volume's own ext4 (not an empty
# directory in dockerd's data root, which is what a Mount path without the mount behind it
# would give) and reads WANT from /data/f.
assert_usable() {
  local seen
  seen=$(docker run --rm -v "$1:/data" $bb sh -c \
    "awk '\$2 == \"/data\" {print \$3}' /proc/mounts; cat /data/f") || true
  assert_eq "ext4 $2" "${seen//$'\n'/ }" "volume $1 usable by a new container, data intact"
}

# mount_state PATH: "mounted" when PATH is a mount point in the host's mount namespace (ours:
# the engines share it), else "unmounted".
mount_state() {
  if awk -v p="$1" '$5 == p {found = 1} END {exit !found}' /proc/self/mountinfo; then
    echo mounted
  else
    echo unmounted
  fi
}

# =============================================================================================
# Managed plugin, engine with live-restore
# =============================================================================================
engine_start managed --live-restore
image_busybox
plugin=helixvol
helixvol_install_managed "$plugin"
state=$E2E_DIR/$plugin-state
plugin_id=$(docker plugin inspect --format '{{.Id}}' "$plugin")
propagated=$E2E_DIR/managed/root/plugins/$plugin_id/propagated-mount

# 1. dockerd restarted with live-restore, no container running --------------------------------
# Then dockerd does shut its plugins down: live-restore keeps the plugin's process, but dockerd
# unmounts the plugin's directory, propagated mount included, and does not set it up again.
# The plugin's new mounts still reach dockerd if the data root is on a shared mount (as on a
# systemd host). Here / is private, so dockerd makes its data root a shared bind mount of
# itself, and on this first restart it unmounts that too and makes a new one, which the
# plugin's mounts no longer reach. (It marks the bind mount for unmounting in
# <exec-root>/unmount-on-shutdown, and drops the mark after a restart that kept containers
# running: hence first, on a fresh engine.) helixvol's data/ subdirectory must then make the
# container fail to start rather than get an empty directory in dockerd's data root, and
# disabling and enabling the plugin must set the propagated mount up again.
docker volume create -d "$plugin" -o size=64M v0 >/dev/null
docker run --rm -v v0:/data $bb sh -c 'echo zero > /data/f'
pid_before=$(helixvol_managed_pid "$plugin" || echo none)
engine_restart managed
pid_after=$(helixvol_managed_pid "$plugin" || echo none)
e2e_log "observed: no container running: plugin pid $pid_before before the restart, $pid_after after"
e2e_log "observed: no container running: the propagated mount is $(mount_state "$propagated")"
if seen=$(docker run --rm -v v0:/data $bb sh -c \
  "awk '\$2 == \"/data\" {print \$3}' /proc/mounts; cat /data/f" 2>"$E2E_DIR/run.err"); then
  e2e_log "observed: the plugin's mounts still reach dockerd after the restart"
  assert_eq "ext4 zero" "${seen//$'\n'/ }" "volume v0 usable after the restart, data intact"
else
  e2e_log "observed: docker run after the restart: $(head -n 1 "$E2E_DIR/run.err")"
  assert_contains "$(<"$E2E_DIR/run.err")" "propagated-mount/v0/data" \
    "the container fails to start rather than get an empty directory for its volume"
  assert_contains "$(status_of v0)" '"mount_references":0' "the failed start holds no reference"
fi
# Either way the propagated mount stays gone until the plugin is enabled again, and a
# plugin that dockerd restarts after a crash would get a new one laid over whatever mounts
# reached dockerd without it, hidden from the new process (step 2 would see exactly that).
docker plugin disable -f "$plugin" >/dev/null
docker plugin enable "$plugin" >/dev/null
assert_usable v0 zero
assert_no_loops "$state" v0 "no loop device left on v0's image"

# 2. kill -9 while a container uses a volume -------------------------------------------------
docker volume create -d "$plugin" -o size=64M v1 >/dev/null
docker run -d --name c1 -v v1:/data $bb sleep 600 >/dev/null
docker exec c1 sh -c 'echo one > /data/f'
old_pid=$(helixvol_managed_pid "$plugin") || e2e_fail "no process found for plugin $plugin"
e2e_pass "found the plugin's process (pid $old_pid)"

# Restarted means a new process, and one that answers: the process exists a moment before
# its socket does, and recovery runs before it answers anything but Plugin.Activate.
plugin_restarted() {
  local pid
  pid=$(helixvol_managed_pid "$plugin") && [[ $pid != "$1" ]] && docker volume inspect v1
}
kill -KILL "$old_pid"
killed_at=$SECONDS
e2e_retry 60 plugin_restarted "$old_pid" || e2e_fail "dockerd did not restart the plugin"
new_pid=$(helixvol_managed_pid "$plugin" || echo none)
e2e_pass "dockerd restarted the plugin (pid $old_pid -> $new_pid in $((SECONDS - killed_at)) s)"

assert_eq one "$(docker exec c1 cat /data/f)" "c1's data is intact after the kill"
docker exec c1 sh -c 'echo two >> /data/f'
status=$(status_of v1)
assert_contains "$status" '"mount_references":1' "recovery kept c1's reference"
assert_contains "$status" '"mounted":true' "recovery found the mount under the propagated mount"
assert_fails docker run --rm -v v1:/data $bb true
assert_contains "$E2E_LAST_ERR" "in use by another container" \
  "a second container is still refused after the restart"
docker rm -f c1 >/dev/null
assert_no_loops "$state" v1 "stopping c1 unmounted v1 and detached its loop device"
assert_usable v1 "one two"

# 3. disable -f / enable with a running container ----------------------------------------------
docker volume create -d "$plugin" -o size=64M v2 >/dev/null
docker run -d --name c2 -v v2:/data $bb sleep 600 >/dev/null
docker exec c2 sh -c 'echo one > /data/f'
docker plugin disable -f "$plugin" >/dev/null
# disable -f unmounts the plugin's side; c2's copy keeps the filesystem and its loop device.
e2e_log "observed: after disable -f, v2 under the propagated mount is $(mount_state "$propagated/v2")"
assert_eq 1 "$(loop_count "$state" v2)" "the loop device lives on while the plugin is disabled"
docker plugin enable "$plugin" >/dev/null

assert_eq one "$(docker exec c2 cat /data/f)" "c2 still reads its data after disable -f/enable"
docker exec c2 sh -c 'echo two >> /data/f'
assert_eq "one two" "$(docker exec c2 cat /data/f | xargs)" "c2 still writes to its volume"
assert_eq 1 "$(loop_count "$state" v2)" "exactly one loop device on v2's image after enable"
assert_contains "$(status_of v2)" '"mount_references":1' "recovery kept c2's reference"
# docker cp mounts again with c2's mount ID: the plugin must mount the filesystem again,
# on the loop device c2's copy still uses, not on a second one.
echo copied >"$E2E_DIR/cp-src"
docker cp "$E2E_DIR/cp-src" c2:/data/cp-dst
assert_eq copied "$(docker exec c2 cat /data/cp-dst)" \
  "docker cp after enable writes into the filesystem c2 uses"
loops=$(loops_of "$state" v2)
assert_eq 1 "$(loop_count "$state" v2)" "still exactly one loop device on v2's image after docker cp"
status=$(status_of v2)
assert_contains "$status" "\"loop_device\":\"$loops\"" "the plugin mounted the existing loop device"
assert_contains "$status" '"mount_references":1' "docker cp's reference came and went"
docker rm -f c2 >/dev/null
assert_no_loops "$state" v2 "stopping c2 leaves no loop device on v2's image"
assert_usable v2 "one two"

# 4. dockerd restarted with live-restore, containers running --------------------------------
docker volume create -d "$plugin" -o size=64M v3 >/dev/null
docker volume create -d "$plugin" -o size=64M v4 >/dev/null
docker run -d --name c3 -v v3:/data $bb sleep 600 >/dev/null
docker run -d --name c4 -v v4:/data $bb sleep 600 >/dev/null
docker exec c3 sh -c 'echo one > /data/f'
docker exec c4 sh -c 'echo one > /data/f'
pid_before=$(helixvol_managed_pid "$plugin" || echo none)
engine_restart managed

# What dockerd 20.10 does to the managed plugin here is what docs/install.md describes.
pid_after=$(helixvol_managed_pid "$plugin" || echo none)
e2e_log "observed: plugin pid $pid_before before the restart, $pid_after after"
e2e_log "observed: after the restart, v3 under the propagated mount is $(mount_state "$propagated/v3")"
assert_eq true "$(docker inspect --format '{{.State.Running}}' c3)" "c3 survived the restart"
assert_eq one "$(docker exec c3 cat /data/f)" "c3's data is intact after the restart"
docker exec c3 sh -c 'echo two >> /data/f'
assert_contains "$(docker volume ls -q | xargs)" "v0 v1 v2 v3 v4" "the volumes are still listed"
status=$(status_of v3)
assert_contains "$status" '"mount_references":1' "inspect still shows c3's reference"
assert_contains "$status" '"mounted":true' "inspect still shows v3 mounted"
assert_eq 1 "$(loop_count "$state" v3)" "exactly one loop device on v3's image"
docker rm -f c3 >/dev/null
assert_no_loops "$state" v3 "stopping c3 after the restart leaves no loop device"
assert_usable v3 "one two"

# 4b. docker cp into a container that lived through the restart. dockerd 20.10 does not
# restore its count of a live-restored container's volume mounts (moby/moby#44422): the
# stat before the copy mounts with the container's mount ID and unmounts, the count drops to
# zero and dockerd forgets the ID. The copy then mounts with a new ID, which an exclusive
# volume refuses, and when the container stops dockerd sends no Unmount for the original ID.
# helixvol keeps the reference (it cannot tell that dockerd forgot it); `helixvol release`
# is the way out, as docs/install.md says.
if docker cp "$E2E_DIR/cp-src" c4:/data/cp-dst 2>"$E2E_DIR/cp.err"; then
  e2e_log "observed: this dockerd keeps live-restored mount IDs; docker cp works"
  assert_eq copied "$(docker exec c4 cat /data/cp-dst)" "docker cp into c4 after the restart"
  docker rm -f c4 >/dev/null
else
  e2e_log "observed: docker cp after the restart: $(<"$E2E_DIR/cp.err")"
  assert_contains "$(<"$E2E_DIR/cp.err")" "in use by another container" \
    "dockerd 20.10 asked with a new mount ID: refused, c4's mount left alone"
  assert_eq one "$(docker exec c4 cat /data/f)" "c4 still has its data"
  docker rm -f c4 >/dev/null
  assert_contains "$(status_of v4)" '"mount_references":1' \
    "dockerd sent no Unmount for c4's forgotten mount ID: the reference stays"
  released=$("$HELIXVOL_BINARY" release v4 --socket "/run/docker/plugins/$plugin_id/helixvol.sock")
  e2e_log "helixvol release v4: $released"
fi
assert_no_loops "$state" v4 "no loop device left on v4's image"
assert_usable v4 one

# =============================================================================================
# Host service, engine with live-restore
# =============================================================================================
hs=$(helixvol_unique_name)
helixvol_start_host_service "$hs"
hstate=$E2E_DIR/$hs-state
engine_start hostsvc --live-restore
image_busybox
# Deferred after the service's stop, so it runs before it (last first): if the test stops
# early, the containers' Unmounts still reach the service.
remove_containers() {
  docker -H "$1" ps -aq 2>/dev/null | xargs -r docker -H "$1" rm -f >/dev/null 2>&1
}
e2e_defer remove_containers "$(engine_host hostsvc)"

# 5. dockerd restarted with live-restore ---------------------------------------------------------
docker volume create -d "$hs" -o size=64M h1 >/dev/null
docker run -d --name hc1 -v h1:/data $bb sleep 600 >/dev/null
docker exec hc1 sh -c 'echo one > /data/f'
engine_restart hostsvc
assert_eq true "$(docker inspect --format '{{.State.Running}}' hc1)" "hc1 survived the restart"
assert_eq one "$(docker exec hc1 cat /data/f)" "hc1's data is intact after the restart"
docker exec hc1 sh -c 'echo two >> /data/f'
assert_eq mounted "$(mount_state "$hstate/mounts/h1")" \
  "the host service's mount stayed on the host across the restart"
assert_contains "$(docker volume ls -q)" h1 "h1 is still listed"
status=$(status_of h1)
assert_contains "$status" '"mount_references":1' "inspect still shows hc1's reference"
assert_contains "$status" '"mounted":true' "inspect still shows h1 mounted"
docker rm -f hc1 >/dev/null
assert_no_loops "$hstate" h1 "stopping hc1 after the restart leaves no loop device"
assert_eq unmounted "$(mount_state "$hstate/mounts/h1")" "and h1 is unmounted"
assert_usable h1 "one two"

# 6. the host service killed and started again, a container running ---------------------------
docker run -d --name hc2 -v h1:/data $bb sleep 600 >/dev/null
docker exec hc2 sh -c 'echo three >> /data/f'
kill -KILL "$(<"$E2E_DIR/$hs.pid")"
helixvol_restart_host_service "$hs"
status=$(status_of h1)
assert_contains "$status" '"mount_references":1' "the restarted service recovered hc2's reference"
assert_contains "$status" '"mounted":true' "and found its mount"
assert_eq "one two three" "$(docker exec hc2 cat /data/f | xargs)" \
  "hc2's data is intact after the service's restart"
assert_fails docker run --rm -v h1:/data $bb true
assert_contains "$E2E_LAST_ERR" "in use by another container" \
  "a second container is still refused after the service's restart"
assert_eq 1 "$(loop_count "$hstate" h1)" "exactly one loop device on h1's image"
docker cp "$E2E_DIR/cp-src" hc2:/data/cp-dst
assert_eq copied "$(docker exec hc2 cat /data/cp-dst)" "docker cp into hc2 works"
docker rm -f hc2 >/dev/null
assert_no_loops "$hstate" h1 "stopping hc2 unmounted h1 and detached its loop device"
assert_eq unmounted "$(mount_state "$hstate/mounts/h1")" "and h1 is unmounted"
assert_usable h1 "one two three"

# Stopped here rather than by the EXIT trap, so that the check below runs in this test.
engine_stop hostsvc
assert_eq "" "$(e2e_leftovers hostsvc)" "nothing left of the host-service engine"
