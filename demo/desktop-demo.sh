#!/usr/bin/env bash
# The scenario helixvol exists for, on a real, private Docker engine:
#   1. install helixvol as a managed plugin from the offline bundle;
#   2. preload a golden data root with two images, one of them carrying 300 MiB of data;
#   3. start three desktop sessions in parallel, each an inner Docker engine whose
#      /var/lib/docker is a reflink clone of the golden snapshot, and run a preloaded image
#      in each without any load or pull;
#   4. print what it cost, and tear everything down.
#
# The desktops are user-namespaced (docs/userns-desktops.md): the engine runs with
# userns-remap, each desktop's root is an unprivileged host uid (printed), and its engine is
# rootless. DEMO_SHAPE=privileged runs the former, privileged desktops instead.
#
#   demo/desktop-demo.sh       (make demo builds first and runs this)
#   DEMO_PAYLOAD_MIB=300       size of the big image's data
#   DEMO_SHAPE=userns          userns (default) or privileged
set -euo pipefail
# shellcheck source=../tests/e2e/lib/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/e2e/lib/harness.sh"

say() { printf '\n== %s\n' "$*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
payload_mib=${DEMO_PAYLOAD_MIB:-300}
sessions=(desktop-1 desktop-2 desktop-3)
demo_shape=${DEMO_SHAPE:-userns}
case $demo_shape in
  userns | privileged) ;;
  *) echo "DEMO_SHAPE=\"$demo_shape\": want userns or privileged" >&2; exit 2 ;;
esac

e2e_setup
say "starting a private dockerd ($(dockerd --version | cut -d, -f1)) in its own network namespace"
if [[ $demo_shape == userns ]]; then
  userns_user_add
  engine_start demo --userns-remap "$USERNS_USER"
  image_busybox
  image_dind_userns
  desktop_image=helix-e2e/dind-userns
  owner=$USERNS_BASE:$USERNS_BASE
  shape=(--shape userns --seccomp "$USERNS_PROFILE" --owner "$owner")
  mapfile -t desktop_flags <<<"$(userns_flags)"
else
  engine_start demo
  image_busybox
  image_dind
  desktop_image=helix-e2e/dind
  mapfile -t shape <<<"$(helixvol_preload_shape)"
  mapfile -t desktop_flags <<<"$(privileged_flags)"
fi

say "installing helixvol as a managed plugin from $HELIXVOL_BUNDLE"
helixvol_install_managed helixvol
state=$E2E_DIR/helixvol-state
pool_baseline=$(df -B1 --output=used "$state" | tail -n 1)
docker plugin ls

say "making a second image with ${payload_mib} MiB of data (helix-demo/payload:1)"
docker run --name payload-maker helix-e2e/busybox \
  sh -c "head -c $((payload_mib << 20)) /dev/urandom > /payload.bin" >/dev/null
docker commit payload-maker helix-demo/payload:1 >/dev/null
docker rm payload-maker >/dev/null
docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -v dind

say "preloading the golden data root ($demo_shape desktops)"
echo "helixvol preload --name golden --engine-image $desktop_image ${shape[*]} \\"
echo "    --image helix-e2e/busybox --image helix-demo/payload:1"
"$HELIXVOL_BINARY" preload --name golden --engine-image "$desktop_image" "${shape[@]}" \
  --image helix-e2e/busybox --image helix-demo/payload:1
docker volume inspect golden --format '{{json .Status}}'

say "starting ${#sessions[@]} $demo_shape desktop sessions in parallel, each cloned from golden"
echo "per session: docker volume create -d helixvol -o from=golden S"
echo "             docker run -d ${desktop_flags[*]} -v S:/var/lib/docker $desktop_image"
echo "             docker exec S docker run --rm helix-demo/payload:1 ..."
# session NAME: one desktop, its timings in $E2E_DIR/NAME.times (clone, answer, output in ms).
session() {
  local s=$1 t0 t1 t2 t3
  t0=$(now_ms)
  docker volume create -d helixvol -o from=golden "$s" >/dev/null
  t1=$(now_ms)
  docker run -d --name "$s" "${desktop_flags[@]}" -v "$s:/var/lib/docker" "$desktop_image" \
    >/dev/null
  e2e_retry 90 docker exec "$s" docker version || return 1
  t2=$(now_ms)
  docker exec "$s" docker run --rm helix-demo/payload:1 \
    sh -c "echo \"hello from a container inside $s: \$(du -m /payload.bin | cut -f1) MiB payload\"" \
    >"$E2E_DIR/$s.out"
  t3=$(now_ms)
  echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t1))" >"$E2E_DIR/$s.times"
}
pids=()
for s in "${sessions[@]}"; do
  session "$s" >"$E2E_DIR/$s.log" 2>&1 &
  pids+=($!)
done
for i in "${!pids[@]}"; do
  wait "${pids[i]}" || { cat "$E2E_DIR/${sessions[i]}.log"; e2e_fail "session ${sessions[i]} failed"; }
done
for s in "${sessions[@]}"; do cat "$E2E_DIR/$s.out"; done
for s in "${sessions[@]}"; do
  echo "$s runs as host uid $(stat -c %u "/proc/$(docker inspect -f '{{.State.Pid}}' "$s")")"
done

say "what it cost"
printf '%-10s  %9s  %22s  %24s\n' session clone "inner engine answers" "first inner output"
printf '%-10s  %9s  %22s  %24s\n' "" "" "(from docker run)" "(from docker run)"
for s in "${sessions[@]}"; do
  read -r clone answer output <"$E2E_DIR/$s.times"
  printf '%-10s  %6s ms  %19s ms  %21s ms\n' "$s" "$clone" "$answer" "$output"
done
pool_used=$(($(df -B1 --output=used "$state" | tail -n 1) - pool_baseline))
nominal=0 data=0
for v in golden "${sessions[@]}"; do
  img=$(find "$state" -path "*/$v/disk.img" | head -n 1)
  nominal=$((nominal + $(stat -c %s "$img")))
  data=$((data + $(du -B1 "$img" | cut -f1)))
done
mib() { echo "$(($1 >> 20)) MiB"; }
echo
echo "pool: $(mib "$pool_used") actually used on disk for golden + ${#sessions[@]} sessions;"
echo "      their volumes' sizes add up to $(mib "$nominal") (sparse images), and the data in"
echo "      them to $(mib "$data"): what full copies would have taken."
docker volume inspect "${sessions[0]}" --format '{{json .Status}}'

say "a second desktop asking for a session's data root is refused"
if docker run --rm -v desktop-1:/var/lib/docker helix-e2e/busybox true 2>"$E2E_DIR/err"; then
  e2e_fail "a second container got the data root"
fi
cat "$E2E_DIR/err"

say "tearing down"
for s in "${sessions[@]}"; do docker rm -f "$s" >/dev/null; done
docker volume rm "${sessions[@]}" golden >/dev/null
echo "loop devices left on the pool: $(helixvol_loops_for "$state" | wc -l)"
e2e_pass "demo finished"
