#!/usr/bin/env bash
# Comparison 2: a fresh volume. `docker volume create` with helixvol (a sparse 20 GiB image
# and mkfs.ext4) against the engine's own `local` driver (a directory), alternating, and
# the mkfs.ext4 invocation alone on the same pool.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
runs=$(bench_runs 10 5)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')

hv=() loc=() mkfs=()
docker volume create -d local "warm-$tag" >/dev/null && docker volume rm "warm-$tag" >/dev/null
for ((r = 1; r <= runs; r++)); do
  t0=$(bench_us)
  docker volume create -d "$BENCH_HV" "f1-$tag-$r" >/dev/null
  hv+=("$(bench_ms_since "$t0")")
  t0=$(bench_us)
  docker volume create -d local "f2-$tag-$r" >/dev/null
  loc+=("$(bench_ms_since "$t0")")
  docker volume rm "f1-$tag-$r" "f2-$tag-$r" >/dev/null

  img=$BENCH_XFS/mkfs-$tag.img
  truncate -s 20G "$img"
  t0=$(bench_us)
  mkfs.ext4 -q -F -O metadata_csum_seed -m 0 -b 4096 \
    -E lazy_itable_init=1,lazy_journal_init=1 "$img" >/dev/null
  mkfs+=("$(bench_ms_since "$t0")")
  rm -f "$img"
done
bench_row 2 "docker volume create" ms lower "helixvol (20 GiB)" "${hv[*]}" local "${loc[*]}"
bench_note 2 "mkfs.ext4 alone, as helixvol runs it, on a sparse 20 GiB file in the same pool: median $(printf %.0f "$(bench_median "${mkfs[@]}")") ms of the helixvol figure"
