#!/usr/bin/env bash
# Comparison 4: session start. From `docker run` of a desktop-shaped inner-engine container
# (helix-e2e/dind with the harness's privileged flags, its data root a helixvol volume at
# /var/lib/docker) to the first line a container inside it prints, with
#   clone  a data root cloned from golden-<mid> (made just before, untimed): the inner engine
#          starts and runs the preloaded image at once
#   load   an empty data root (made just before, untimed): the inner engine starts, loads
#          the same archive (bind-mounted read-only at /archives, in both cases), then runs it
# Page cache dropped before each run. Measured in both desktop shapes: privileged (the
# harness's privileged flags, helix-e2e/dind) and user-namespaced (docs/userns-desktops.md: a
# second engine with userns-remap, helix-e2e/dind-userns with its flags, the golden root
# preloaded from the same archive with --shape userns, data roots owned by the remapped root).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init goldens
bench_priv_flags
runs=$(bench_runs 3 1)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
mib=$BENCH_MID_MIB
image=helix-bench/payload-${mib}m:1

# first_output START_US: reads the inner container's output, prints the ms from START_US to
# its first line, and fails unless that line is "hello".
first_output() {
  local line ms
  IFS= read -r line || return 1
  ms=$(bench_ms_since "$1")
  cat >/dev/null
  [[ $line == hello ]] || { bench_log "unexpected first line: $line"; return 1; }
  echo "$ms"
}

# session NAME INNER_COMMAND: docker run of the desktop (flags in desktop_flags, image in
# desktop_image), then INNER_COMMAND inside it once its engine answers; prints the ms to the
# first output. Runs in $(...): the caller defers the container's removal.
desktop_flags=("${BENCH_PRIV[@]}")
desktop_image=helix-e2e/dind
session() {
  local name=$1 cmd=$2 t0
  bench_cold
  t0=$(bench_us)
  docker run -d --name "$name" "${desktop_flags[@]}" -v "$name:/var/lib/docker" \
    -v "$BENCH_DATA:/archives:ro" "$desktop_image" >/dev/null
  docker exec "$name" sh -c "$(bench_inner_script "$cmd")" 2>&1 | first_output "$t0"
}

# measure GOLDEN [VOLUME_OPTION...]: fills clone and load with one run each per round.
measure() {
  local golden=$1 r
  shift
  clone=() load=()
  for ((r = 1; r <= runs; r++)); do
    docker volume create -d "$BENCH_HV" -o from="$golden" "s1-$tag-$r" >/dev/null
    e2e_defer bench_quiet docker rm -f "s1-$tag-$r"
    clone+=("$(session "s1-$tag-$r" "docker run --rm $image echo hello")")
    docker rm -f "s1-$tag-$r" >/dev/null
    docker volume rm "s1-$tag-$r" >/dev/null

    docker volume create -d "$BENCH_HV" "$@" "s2-$tag-$r" >/dev/null
    e2e_defer bench_quiet docker rm -f "s2-$tag-$r"
    load+=("$(session "s2-$tag-$r" "docker load -i /archives/payload-${mib}m.tar >/dev/null && docker run --rm $image echo hello")")
    docker rm -f "s2-$tag-$r" >/dev/null
    docker volume rm "s2-$tag-$r" >/dev/null
  done
}

measure "golden-${mib}m"
bench_row 4 "$mib MiB of images: docker run to first inner output" ms lower \
  "cloned data root" "${clone[*]}" "empty data root + docker load" "${load[*]}"
privileged_clone=("${clone[@]}")

# The userns shape, on its own engine. The helixvol host service is seen by every engine on
# the host; the remapped root must be able to reach its mounts and the archives.
userns_user_add
chmod o+x "$E2E_DIR/$BENCH_HV-state"
chmod -R o+rX "$BENCH_DATA"
engine_start "bench-userns-$tag" --userns-remap "$USERNS_USER"
e2e_defer engine_stop "bench-userns-$tag"
image_dind_userns
owner=$USERNS_BASE:$USERNS_BASE
"$HELIXVOL_BINARY" preload --name "golden-userns-$tag" --engine-image helix-e2e/dind-userns \
  --driver "$BENCH_HV" --archive "$BENCH_DATA/payload-${mib}m.tar" --shape userns \
  --seccomp "$USERNS_PROFILE" --owner "$owner" >/dev/null
e2e_defer bench_quiet docker volume rm "golden-userns-$tag"
mapfile -t desktop_flags <<<"$(userns_flags)"
desktop_image=helix-e2e/dind-userns
measure "golden-userns-$tag" -o "owner=$owner"
bench_row 4 "$mib MiB of images, user-namespaced desktops: docker run to first inner output" \
  ms lower "cloned data root" "${clone[*]}" "empty data root + docker load" "${load[*]}"
bench_row 4 "cloned data root: docker run to first inner output, userns desktop against privileged" \
  ms lower "userns desktop" "${clone[*]}" "privileged desktop" "${privileged_clone[*]}"
