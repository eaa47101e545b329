#!/usr/bin/env bash
# User-namespaced desktops (docs/userns-desktops.md) on a private userns-remapped engine with
# helixvol and helixauthz (policy-userns.json) as host services:
#   * a desktop in the userns shape runs its own rootless engine on a helixvol data root, and
#     two levels of engines below it run containers;
#   * every process of the desktop, at every level, has a non-zero host uid;
#   * as root inside the desktop, the host-escape probes fail, where the same probes in a
#     privileged-equivalent desktop on a plain engine succeed (so the probes can fail);
#   * helixauthz admits the shape and refuses each way out of it, with its message on the CLI,
#     and refuses every desktop when its engine runs without user namespaces.
set -euo pipefail
# shellcheck source=lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/harness.sh"
e2e_setup
userns_user_add
engine_start outer --userns-remap "$USERNS_USER"
outer_host=$DOCKER_HOST
image_busybox
image_dind_userns
bb=helix-e2e/busybox
hv=$(helixvol_unique_name)
helixvol_start_host_service "$hv"
chmod o+x "$E2E_DIR/$hv-state"
mapfile -t shape <<<"$(userns_flags)"
desktop=(--label helix.session=u1 --memory 4g --cpus 2 --pids-limit 4096)

e2e_log "a userns desktop on a helixvol data root, and two levels below it"
docker volume create -d "$hv" --label helix.session=u1 -o size=4G \
  -o "owner=$USERNS_BASE:$USERNS_BASE" u1 >/dev/null
docker run -d --name desktop-1 "${shape[@]}" "${desktop[@]}" -v u1:/var/lib/docker \
  helix-e2e/dind-userns >/dev/null
userns_inner_ready desktop-1 || e2e_fail "the desktop's rootless engine did not start: $(docker logs desktop-1 2>&1 | tail -n 5)"
assert_eq "overlay2 true" "$(docker exec desktop-1 docker info -f '{{.Driver}} {{range .DriverStatus}}{{if eq (index . 0) "userxattr"}}{{index . 1}}{{end}}{{end}}')" \
  "the desktop's engine runs overlay2 with userxattr (a user namespace's native overlay)"
assert_eq ext4 "$(docker exec desktop-1 stat -f -c %T /var/lib/docker | sed 's/ext2\/ext3/ext4/')" \
  "on the helixvol ext4 data root"
docker save $bb | docker exec -i desktop-1 docker load >/dev/null
assert_eq level-1 "$(docker exec desktop-1 docker run --rm $bb echo level-1)" \
  "the desktop's engine runs a container"
# Level 2: a container of the desktop's engine runs its own engine, with its data root in a
# volume of the desktop's engine (a directory of the ext4: no loop devices below level 1).
docker save helix-e2e/dind-userns | docker exec -i desktop-1 docker load >/dev/null
# The levels below run with the desktop's own shape; their seccomp filter stacks on the
# desktop's, so unconfined here adds nothing to what the kernel already refuses.
inner=(--cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined
  --sysctl net.ipv4.ip_forward=1)
docker exec desktop-1 docker run -d --name l2 "${inner[@]}" -v l2:/var/lib/docker \
  helix-e2e/dind-userns >/dev/null
userns_inner_ready l2 docker exec desktop-1 ||
  e2e_fail "level 2's engine did not start: $(docker exec desktop-1 docker logs l2 2>&1 | tail -n 5)"
docker save $bb | docker exec -i desktop-1 docker exec -i l2 docker load >/dev/null
assert_eq level-2 "$(docker exec desktop-1 docker exec l2 docker run --rm $bb echo level-2)" \
  "a container inside the desktop runs an engine whose container runs"
docker save helix-e2e/dind-userns | docker exec -i desktop-1 docker exec -i l2 docker load >/dev/null
docker exec desktop-1 docker exec l2 docker run -d --name l3 "${inner[@]}" \
  -v l3:/var/lib/docker helix-e2e/dind-userns >/dev/null
userns_inner_ready l3 docker exec desktop-1 docker exec l2 ||
  e2e_fail "level 3's engine did not start"
docker save $bb | docker exec -i desktop-1 docker exec -i l2 docker exec -i l3 docker load >/dev/null
docker exec desktop-1 docker exec l2 docker exec l3 docker run -d --name deepest $bb sleep 600 \
  >/dev/null
assert_eq running "$(docker exec desktop-1 docker exec l2 docker exec l3 docker inspect -f '{{.State.Status}}' deepest)" \
  "two levels of engines below the desktop's, and the deepest one's container runs"

e2e_log "a golden data root preloaded for userns desktops, cloned twice in parallel"
# An image whose top layer deletes a file and replaces a directory: a whiteout and an opaque
# directory, which an engine in a user namespace marks with user.overlay.* attributes.
docker run --name wo-base $bb sh -c 'mkdir /d && echo old >/d/old && echo x >/gone' >/dev/null
docker commit wo-base helix-e2e/wo-base >/dev/null
docker run --name wo-top helix-e2e/wo-base sh -c 'rm /gone && rm -rf /d && mkdir /d && echo new >/d/new' \
  >/dev/null
docker commit wo-top helix-e2e/whiteouts >/dev/null
docker rm wo-base wo-top >/dev/null
wo_check='test ! -e /gone && test ! -e /d/old && cat /d/new'
assert_eq new "$(docker run --rm helix-e2e/whiteouts sh -c "$wo_check")" \
  "the whiteout image hides what its top layer deleted (on the sandbox engine)"
owner=$USERNS_BASE:$USERNS_BASE
assert_fails "$HELIXVOL_BINARY" preload --name golden --engine-image helix-e2e/dind-userns \
  --driver "$hv" --image helix-e2e/whiteouts --shape userns --owner "$owner"
assert_contains "$E2E_LAST_ERR" "--shape userns needs --seccomp FILE" "preload --shape userns needs the profile"
"$HELIXVOL_BINARY" preload --name golden --engine-image helix-e2e/dind-userns --driver "$hv" \
  --size 2G --image helix-e2e/whiteouts --shape userns --seccomp "$USERNS_PROFILE" \
  --owner "$owner" >"$E2E_DIR/preload.out" 2>&1 || e2e_fail "preload --shape userns: $(tail -n 5 "$E2E_DIR/preload.out")"
e2e_pass "helixvol preload --shape userns builds a golden root through the userns loader"
assert_eq "$owner" "$(docker volume inspect -f '{{.Status.owner}}' golden)" "the golden root keeps the owner"
for s in g1 g2; do
  docker volume create -d "$hv" -o from=golden "$s" >/dev/null &
done
wait
for s in g1 g2; do
  docker run -d --name "desktop-$s" "${shape[@]}" -v "$s:/var/lib/docker" helix-e2e/dind-userns \
    >/dev/null &
done
wait
for s in g1 g2; do
  userns_inner_ready "desktop-$s" || e2e_fail "desktop-$s's engine did not start"
  assert_eq new "$(docker exec "desktop-$s" docker run --rm helix-e2e/whiteouts sh -c "$wo_check")" \
    "desktop-$s runs the preloaded image without a load, and the deleted files stay deleted"
done
docker rm -f desktop-g1 desktop-g2 >/dev/null

e2e_log "a data root through an idmapped mount (-o idmap)"
docker volume create -d "$hv" -o size=2G -o "idmap=0:$USERNS_BASE:65536" i1 >/dev/null
assert_eq "0:$USERNS_BASE:65536" "$(docker volume inspect -f '{{.Status.idmap}}' i1)" \
  "helixvol reports the volume's idmap"
docker run -d --name desktop-i1 "${shape[@]}" -v i1:/var/lib/docker helix-e2e/dind-userns >/dev/null
userns_inner_ready desktop-i1 || e2e_fail "desktop-i1's engine did not start: $(docker logs desktop-i1 2>&1 | tail -n 5)"
docker save $bb | docker exec -i desktop-i1 docker load >/dev/null
assert_eq idmapped "$(docker exec desktop-i1 docker run --rm $bb echo idmapped)" \
  "a userns desktop runs its engine on an idmapped data root"
i1_data=$(docker volume inspect -f '{{.Mountpoint}}' i1)
assert_eq "$USERNS_BASE" "$(stat -c %u "$i1_data/image")" \
  "through the mount, the inner engine's files belong to the desktop's root"
i1_image=$(find "$E2E_DIR/$hv-state" -path '*/i1/disk.img' | head -n 1)
sync
assert_contains "$(debugfs -R 'stat /data/image' "$i1_image" 2>/dev/null | grep 'User:')" "User:     0" \
  "on disk they are stored as uid 0: the same root serves any remap range"
docker rm -f desktop-i1 >/dev/null

e2e_log "host uids"
pid=$(docker inspect -f '{{.State.Pid}}' desktop-1)
assert_eq "$USERNS_BASE" "$(stat -c %u "/proc/$pid")" "the desktop's root is host uid $USERNS_BASE"
# Rootless engines leave cgroups alone, so every process of every level is in the desktop's.
cg=$(awk -F: '$2 == "pids" { print $3 }' "/proc/$pid/cgroup")
procs=$(cat "/sys/fs/cgroup/pids$cg/cgroup.procs")
n=$(wc -w <<<"$procs")
((n >= 10)) || e2e_fail "only $n processes in the desktop's cgroup $cg"
root_owned=$(for p in $procs; do stat -c '%u %n' "/proc/$p" 2>/dev/null; done | awk '$1 == 0' | wc -l)
assert_eq 0 "$root_owned" "none of the desktop's $n processes (engines of three levels, containerd, shims, containers) is host root"

# probe SHAPE: the host-escape attempts as root in the desktop; prints one line per probe,
# "NAME ok" when it got through, "NAME refused" when not.
dev=$(mountpoint -d /)
fstype=$(findmnt -n -o FSTYPE /)
echo "host" >"$E2E_DIR/probe-marker"
# The host's root filesystem is mounted read-write already: a second mount of it must be
# read-write too (the kernel refuses to change its read-only state), and proves it by
# reading a file the test just wrote on the host.
probe_script="
  mknod /dev/helix-probe-disk b ${dev%:*} ${dev#*:} 2>/dev/null && mkdir -p /tmp/h &&
    mount -t $fstype /dev/helix-probe-disk /tmp/h 2>/dev/null &&
    grep -q host /tmp/h$E2E_DIR/probe-marker && umount /tmp/h && echo 'mount-host-disk ok' ||
    echo 'mount-host-disk refused'
  cat /proc/sys/kernel/core_pattern > /tmp/cp && cat /tmp/cp > /proc/sys/kernel/core_pattern 2>/dev/null &&
    echo 'core_pattern ok' || echo 'core_pattern refused'
  dmesg >/dev/null 2>&1 && echo 'dmesg ok' || echo 'dmesg refused'
  mkdir -p /tmp/cg && mount -t cgroup -o pids cg /tmp/cg 2>/dev/null &&
    mkdir /tmp/cg/helix-probe-$$ 2>/dev/null && rmdir /tmp/cg/helix-probe-$$ && echo 'host-cgroup ok' ||
    echo 'host-cgroup refused'
  umount /tmp/cg 2>/dev/null || true"
userns_probes=$(docker exec desktop-1 sh -c "$probe_script")
for p in mount-host-disk core_pattern dmesg host-cgroup; do
  assert_contains "$userns_probes" "$p refused" "userns desktop: $p is refused"
done

e2e_log "the same probes in a privileged-equivalent desktop on a plain engine"
engine_start plain
image_dind
mapfile -t priv <<<"$(privileged_flags)"
docker run -d --name priv-desktop "${priv[@]}" helix-e2e/dind >/dev/null
e2e_retry 60 docker exec priv-desktop docker version || e2e_fail "the privileged desktop did not start"
priv_probes=$(docker exec priv-desktop sh -c "$probe_script")
for p in mount-host-disk core_pattern dmesg host-cgroup; do
  assert_contains "$priv_probes" "$p ok" "privileged-equivalent desktop: $p gets through (the probe can fail)"
done
docker rm -f priv-desktop >/dev/null
plain_host=$DOCKER_HOST
export DOCKER_HOST=$outer_host

e2e_log "helixauthz with policy-userns.json"
az=$(helixvol_unique_name | sed 's/helixvol/helixauthz/')
python3 - "$E2E_ROOT/authz-plugin/policy-userns.json" "$E2E_DIR/policy.json" \
  "$(docker image inspect -f '{{.Id}}' helix-e2e/dind-userns)" "$hv" "$USERNS_BASE" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["userns"]["images"] = [sys.argv[3]]
policy["userns"]["data_root_options"] = {"owner": f"{sys.argv[5]}:{sys.argv[5]}"}
policy["helixvol"]["drivers"] = [sys.argv[4]]
json.dump(policy, open(sys.argv[2], "w"), indent=2)
PY
# The policy refuses image export to ordinary callers: preload under it takes archives.
docker save $bb >"$E2E_DIR/busybox.tar"
helixauthz_start_host_service "$az" "$E2E_DIR/policy.json"
helixauthz_activate "$az"
# denied WHAT FIELD CMD...: CMD fails with the plugin's message, which names FIELD.
denied() {
  local what=$1 field=$2
  shift 2
  helixauthz_denied "$az" "$what" "$@"
  assert_contains "$E2E_LAST_ERR" "$field" "and names $field"
}
docker volume create -d "$hv" --label helix.session=u2 -o size=2G -o "owner=$USERNS_BASE:$USERNS_BASE" u2 >/dev/null
d2=(--label helix.session=u2 --memory 4g --cpus 2 --pids-limit 4096 -v u2:/var/lib/docker)
docker run -d --name desktop-2 "${shape[@]}" "${d2[@]}" helix-e2e/dind-userns >/dev/null
e2e_retry 90 bash -c 'docker logs desktop-2 2>&1 | grep -q "API listen on"' ||
  e2e_fail "the admitted desktop's engine did not start"
e2e_pass "the userns desktop shape is admitted and its engine runs"
docker rm -f desktop-2 >/dev/null
"$HELIXVOL_BINARY" preload --name golden-2 --engine-image helix-e2e/dind-userns --driver "$hv" \
  --size 2G --archive "$E2E_DIR/busybox.tar" --shape userns --seccomp "$USERNS_PROFILE" \
  --owner "$USERNS_BASE:$USERNS_BASE" --label helix.session=preload --memory 2G --cpus 1 \
  --pids-limit 4096 >"$E2E_DIR/preload-2.out" 2>&1 ||
  e2e_fail "preload --shape userns under policy-userns: $(tail -n 5 "$E2E_DIR/preload-2.out")"
e2e_pass "helixvol preload --shape userns works under policy-userns: no hole needed"
sysctl=(--sysctl net.ipv4.ip_forward=1)
try() { docker create "${shape[@]}" "${d2[@]}" "$@" helix-e2e/dind-userns; }
denied "--privileged is refused" HostConfig.Privileged try --privileged
denied "--userns=host is refused" HostConfig.UsernsMode try --userns=host
denied "--cap-add ALL is refused" HostConfig.CapAdd try --cap-add ALL
denied "systempaths=unconfined is refused" HostConfig.MaskedPaths try --security-opt systempaths=unconfined
denied "a device is refused" HostConfig.Devices try --device /dev/loop-control
denied "a device cgroup rule is refused" HostConfig.DeviceCgroupRules try --device-cgroup-rule 'b 7:* rmw'
echo '{"defaultAction":"SCMP_ACT_ALLOW"}' >"$E2E_DIR/allow-all.json"
denied "another seccomp profile is refused" HostConfig.SecurityOpt docker create --cap-add SYS_ADMIN --cap-add NET_ADMIN \
  --security-opt "seccomp=$E2E_DIR/allow-all.json" --security-opt apparmor=unconfined \
  "${sysctl[@]}" "${d2[@]}" helix-e2e/dind-userns
docker volume create -d "$hv" --label helix.session=u3 -o size=2G u3 >/dev/null
denied "a data root without the required owner is refused" owner docker create "${shape[@]}" \
  --label helix.session=u3 --memory 4g --cpus 2 --pids-limit 4096 -v u3:/var/lib/docker \
  helix-e2e/dind-userns
denied "--userns=host is refused on an ordinary container too" HostConfig.UsernsMode docker create --userns=host $bb true
assert_eq "" "$(docker ps -aq --filter name=^/desktop-2\$)" "nothing refused was created"
made=$(docker ps -aq | wc -l)
assert_eq 1 "$made" "only desktop-1 exists"

e2e_log "helixauthz on an engine without user namespaces refuses every desktop"
export DOCKER_HOST=$plain_host
docker tag helix-e2e/dind helix-e2e/dind-plain
az2=$az-plain
python3 - "$E2E_DIR/policy.json" "$E2E_DIR/policy-plain.json" \
  "$(docker image inspect -f '{{.Id}}' helix-e2e/dind)" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["userns"]["images"] = [sys.argv[3]]
json.dump(policy, open(sys.argv[2], "w"), indent=2)
PY
helixauthz_start_host_service "$az2" "$E2E_DIR/policy-plain.json"
helixauthz_activate "$az2"
assert_fails docker create "${shape[@]}" "${d2[@]}" helix-e2e/dind
assert_contains "$E2E_LAST_ERR" "user namespaces" \
  "a userns-shaped desktop on an engine without userns-remap is refused, saying why"
assert_eq 0 "$(docker ps -aq | wc -l)" "and nothing was created"
