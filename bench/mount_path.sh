#!/usr/bin/env bash
# Comparison 3: the mount path. `docker run --rm -v VOL:/data helix-e2e/busybox true` with a
# helixvol volume (Mount: attach a loop device, mount ext4; Unmount at the end) against a
# `local` volume, alternating; the ratio is what the plugin adds to a container start.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
runs=$(bench_runs 10 3)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')

docker volume create -d "$BENCH_HV" "m1-$tag" >/dev/null
docker volume create -d local "m2-$tag" >/dev/null
e2e_defer bench_quiet docker volume rm "m1-$tag" "m2-$tag"
# One untimed run each: the first mount of a fresh ext4 and the first container start.
docker run --rm -v "m1-$tag:/data" helix-e2e/busybox true
docker run --rm -v "m2-$tag:/data" helix-e2e/busybox true
hv=() loc=()
for ((r = 1; r <= runs; r++)); do
  t0=$(bench_us)
  docker run --rm -v "m1-$tag:/data" helix-e2e/busybox true
  hv+=("$(bench_ms_since "$t0")")
  t0=$(bench_us)
  docker run --rm -v "m2-$tag:/data" helix-e2e/busybox true
  loc+=("$(bench_ms_since "$t0")")
done
bench_row 3 "docker run --rm -v VOL:/data busybox true" ms lower helixvol "${hv[*]}" local "${loc[*]}"
diff=$(awk -v a="$(bench_median "${hv[@]}")" -v b="$(bench_median "${loc[@]}")" 'BEGIN { printf "%.0f", a - b }')
if ((diff > 0)); then
  bench_note 3 "helixvol adds a median $diff ms to a container start (Mount and Unmount: loop device, ext4 mount and unmount)"
else
  bench_note 3 "no cost measurable here: helixvol's median is $((-diff)) ms under local's, inside the spread of a container start on this machine"
fi
# The plugin's own part, at its socket: Mount then Unmount of the same volume.
sock=/run/docker/plugins/$BENCH_HV.sock
mounts=() unmounts=()
for ((r = 1; r <= runs; r++)); do
  mounts+=("$(bench_plugin_ms "$sock" VolumeDriver.Mount "{\"Name\":\"m1-$tag\",\"ID\":\"bench-$r\"}")")
  unmounts+=("$(bench_plugin_ms "$sock" VolumeDriver.Unmount "{\"Name\":\"m1-$tag\",\"ID\":\"bench-$r\"}")")
done
bench_note 3 "the plugin's own part, at its socket: Mount median $(printf %.0f "$(bench_median "${mounts[@]}")") ms, Unmount median $(printf %.0f "$(bench_median "${unmounts[@]}")") ms"
