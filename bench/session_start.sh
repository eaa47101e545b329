#!/usr/bin/env bash
# Comparison 4: session start. From `docker run` of a desktop-shaped inner-engine container
# (helix-e2e/dind with the harness's privileged flags, its data root a helixvol volume at
# /var/lib/docker) to the first line a container inside it prints, with
#   clone  a data root cloned from golden-<mid> (made just before, untimed): the inner engine
#          starts and runs the preloaded image at once
#   load   an empty data root (made just before, untimed): the inner engine starts, loads
#          the same archive (bind-mounted read-only at /archives, in both cases), then runs it
# Page cache dropped before each run.
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

# session NAME INNER_COMMAND: docker run of the desktop, then INNER_COMMAND inside it once
# its engine answers; prints the ms to the first output. Runs in $(...): the caller defers
# the container's removal.
session() {
  local name=$1 cmd=$2 t0
  bench_cold
  t0=$(bench_us)
  docker run -d --name "$name" "${BENCH_PRIV[@]}" -v "$name:/var/lib/docker" \
    -v "$BENCH_DATA:/archives:ro" helix-e2e/dind >/dev/null
  docker exec "$name" sh -c "$(bench_inner_script "$cmd")" 2>&1 | first_output "$t0"
}

clone=() load=()
for ((r = 1; r <= runs; r++)); do
  docker volume create -d "$BENCH_HV" -o from="golden-${mib}m" "s1-$tag-$r" >/dev/null
  e2e_defer bench_quiet docker rm -f "s1-$tag-$r"
  clone+=("$(session "s1-$tag-$r" "docker run --rm $image echo hello")")
  docker rm -f "s1-$tag-$r" >/dev/null
  docker volume rm "s1-$tag-$r" >/dev/null

  docker volume create -d "$BENCH_HV" "s2-$tag-$r" >/dev/null
  e2e_defer bench_quiet docker rm -f "s2-$tag-$r"
  load+=("$(session "s2-$tag-$r" "docker load -i /archives/payload-${mib}m.tar >/dev/null && docker run --rm $image echo hello")")
  docker rm -f "s2-$tag-$r" >/dev/null
  docker volume rm "s2-$tag-$r" >/dev/null
done
bench_row 4 "$mib MiB of images: docker run to first inner output" ms lower \
  "cloned data root" "${clone[*]}" "empty data root + docker load" "${load[*]}"
