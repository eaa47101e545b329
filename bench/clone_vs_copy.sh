#!/usr/bin/env bash
# Comparison 1: clone versus copy versus load. For each golden data root (BENCH_SIZES_MIB,
# 256 MiB, 1 GiB and 4 GiB of image data in a full run), the time to a data root that holds
# the images, ready for a new session, made three ways, each after dropping the page cache:
#   clone  docker volume create -d helixvol -o from=golden (a reflink clone)
#   copy   the same through a second helixvol with POOL=copy: a real copy of the image's
#          data ranges (pread/pwrite, holes kept, fsync), what a copy-based plugin does;
#          checked to be a real copy by the pool's df before and after
#   load   docker volume create of an empty data root, plus `docker load` of the same
#          image archive into an inner engine running on an empty data root (the inner
#          engine's start is left out here: both ways pay it; comparison 4 times a whole
#          session start)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init goldens
bench_priv_flags
runs=$(bench_runs 3 1)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')

# The inner engine of the load runs, on an empty helixvol data root, with the archives
# bind-mounted read-only. Each load run starts from an empty image store (the loaded image
# is removed after it); an empty volume's create is timed on its own and added.
inner=c3-$tag
docker volume create -d "$BENCH_HV" "$inner" >/dev/null
e2e_defer bench_quiet docker volume rm "$inner"
e2e_defer bench_quiet docker rm -f "$inner"
docker run -d --name "$inner" "${BENCH_PRIV[@]}" -v "$inner:/var/lib/docker" \
  -v "$BENCH_DATA:/archives:ro" helix-e2e/dind >/dev/null
docker exec "$inner" sh -c "$(bench_inner_script true)"

for mib in $BENCH_SIZES_MIB; do
  golden=golden-${mib}m
  clone=() copy=() load=()
  for ((r = 1; r <= runs; r++)); do
    vol=c1-$tag-$r
    bench_cold
    t0=$(bench_us)
    docker volume create -d "$BENCH_HV" -o from="$golden" "$vol" >/dev/null
    clone+=("$(bench_ms_since "$t0")")
    docker volume rm "$vol" >/dev/null

    vol=c2-$tag-$r
    used0=$(bench_used_bytes "$BENCH_XFS")
    bench_cold
    t0=$(bench_us)
    docker volume create -d "$BENCH_HVCOPY" -o from="$golden" "$vol" >/dev/null
    copy+=("$(bench_ms_since "$t0")")
    if ((r == 1)); then
      written=$(($(bench_used_bytes "$BENCH_XFS") - used0))
      allocated=$(du -B1 "$(bench_volume_image "$golden" hv)" | cut -f1)
      bench_note 1 "${mib} MiB golden: the copy took $((written >> 20)) MiB of new pool space for a golden image with $((allocated >> 20)) MiB allocated (a real copy, by df)"
      if ((written < allocated / 2)); then
        bench_note 1 "WARNING: the ${mib} MiB copy wrote less than half the golden image: not a real copy"
      fi
    fi
    docker volume rm "$vol" >/dev/null

    vol=c3-$tag-$r
    t0=$(bench_us)
    docker volume create -d "$BENCH_HV" "$vol" >/dev/null
    create_ms=$(bench_ms_since "$t0")
    docker volume rm "$vol" >/dev/null
    bench_cold
    docker exec "$inner" docker version >/dev/null
    t0=$(bench_us)
    docker exec "$inner" docker load -i "/archives/payload-${mib}m.tar" >/dev/null
    load_ms=$(bench_ms_since "$t0")
    load+=("$(awk -v a="$create_ms" -v b="$load_ms" 'BEGIN { print a + b }')")
    # Back to an empty image store for the next run.
    docker exec "$inner" docker rmi "helix-bench/payload-${mib}m:1" >/dev/null
  done
  # The plugin's own part of a clone, without dockerd and the CLI.
  sock=/run/docker/plugins/$BENCH_HV.sock
  raw=()
  for ((r = 1; r <= runs; r++)); do
    bench_drop_caches
    raw+=("$(bench_plugin_ms "$sock" VolumeDriver.Create "{\"Name\":\"c4-$tag-$r\",\"Opts\":{\"from\":\"$golden\"}}")")
    bench_plugin_ms "$sock" VolumeDriver.Remove "{\"Name\":\"c4-$tag-$r\"}" >/dev/null
  done
  bench_note 1 "${mib} MiB golden: the plugin's own part of the clone (Create at its socket, no dockerd, no CLI): median $(printf %.0f "$(bench_median "${raw[@]}")") ms"
  bench_row 1 "$mib MiB golden" ms lower clone "${clone[*]}" copy "${copy[*]}"
  bench_row 1 "$mib MiB golden" ms lower clone "${clone[*]}" "empty + docker load" "${load[*]}"
done
for mib in $BENCH_SIZES_MIB; do
  if [[ -f $BENCH_DATA/preload-${mib}m.ms ]]; then
    bench_note 1 "building golden-${mib}m once (helixvol preload of the archive): $(awk '{ printf "%.1f", $1 / 1000 }' "$BENCH_DATA/preload-${mib}m.ms") s"
  fi
done
bench_note 1 "clone and copy are the whole \`docker volume create\` through dockerd; load is an empty \`docker volume create\` plus \`docker load\` in an inner engine already running on it; page cache dropped before each (then \`docker version\` run once, so the CLI's binary is not what is measured)"
