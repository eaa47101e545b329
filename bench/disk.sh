#!/usr/bin/env bash
# Comparison 5: disk. Pool bytes actually used (df of the pool's filesystem, after sync) by
# ten sessions made from golden-<mid>, each of which then wrote 50 MiB of new data into its
# volume (one container writing new.bin into all ten): ten reflink clones (helixvol) against ten
# real copies (helixvol with POOL=copy).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init goldens
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
mib=$BENCH_MID_MIB
n=10

# sessions PLUGIN PREFIX: makes the ten sessions, prints the pool bytes they took. Runs in
# $(...): removal is deferred by the caller.
sessions() {
  local plugin=$1 prefix=$2 used0 i mounts=()
  used0=$(bench_settled_used_bytes "$BENCH_XFS")
  for ((i = 1; i <= n; i++)); do
    docker volume create -d "$plugin" -o from="golden-${mib}m" "$prefix-$i" >/dev/null
    mounts+=(-v "$prefix-$i:/s$i")
  done
  # One container writes into all ten, so the run is not ten container starts long.
  docker run --rm "${mounts[@]}" helix-e2e/busybox sh -c \
    "for i in \$(seq $n); do head -c 52428800 /dev/urandom >/s\$i/new.bin || exit 1; done; sync" \
    >/dev/null
  echo $(($(bench_settled_used_bytes "$BENCH_XFS") - used0))
}
# allocated SUBDIR PREFIX: the bytes the ten images have allocated, shared or not (du).
allocated() {
  local i sum=0
  for ((i = 1; i <= n; i++)); do
    sum=$((sum + $(du -B1 "$(bench_volume_image "$2-$i" "$1")" | cut -f1)))
  done
  echo "$sum"
}
remove() {
  local prefix=$1 i
  for ((i = 1; i <= n; i++)); do docker volume rm "$prefix-$i" >/dev/null; done
}

cleanup() {
  local i
  for ((i = 1; i <= n; i++)); do bench_quiet docker volume rm "d1-$tag-$i" "d2-$tag-$i"; done
}
e2e_defer cleanup
clones=$(sessions "$BENCH_HV" "d1-$tag")
clones_du=$(allocated hv "d1-$tag")
remove "d1-$tag"
copies=$(sessions "$BENCH_HVCOPY" "d2-$tag")
copies_du=$(allocated hvcopy "d2-$tag")
remove "d2-$tag"
golden_bytes=$(du -B1 "$(bench_volume_image "golden-${mib}m" hv)" | cut -f1)
bench_row 5 "ten sessions of golden-${mib}m, 50 MiB written each" bytes lower \
  "reflink clones" "$clones" copies "$copies"
bench_note 5 "the golden image holds $((golden_bytes >> 20)) MiB; the data the sessions wrote adds up to $((n * 50)) MiB; ideal for clones: $((n * 50)) MiB plus ext4 metadata, for copies: $((n * 50 + n * (golden_bytes >> 20))) MiB"
bench_note 5 "allocated by the ten images, counting shared blocks once per image (du): clones $((clones_du >> 20)) MiB, copies $((copies_du >> 20)) MiB"
