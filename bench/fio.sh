#!/usr/bin/env bash
# Comparison 6: I/O inside a volume. fio sequential write (1 MiB blocks, a new file each
# run), sequential read of it (after dropping the page cache) and 4 KiB random writes into
# it, all O_DIRECT with 16 in flight, in:
#   host       a plain directory on the host's filesystem (the baseline)
#   helixvol   a helixvol volume in the reflink XFS pool, mounted by a container; its loop
#              device does direct I/O (helixvol's default)
#   no-dio     the same volume with its loop device switched to buffered I/O
#              (losetup --direct-io=off), to show what direct I/O changes
#   self-pool  a helixvol volume in a self-managed XFS pool (POOL=auto on the host's ext4:
#              helixvol's own pool.img, loop-mounted)
# Throughput ratios are helixvol's over the host directory's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init
runs=$(bench_runs 3 1)
size_mib=$(bench_runs 1024 64)
seconds=$(bench_runs 3 1)
tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
command -v fio >/dev/null || { bench_note 6 "skipped: fio is not installed (make deps installs it)"; exit 0; }

# The self-managed pool: helixvol on a state directory on the host's ext4.
sm=helixvol-bench-sm-$tag
helixvol_start_host_service "$sm" LOG_LEVEL=info POOL_SIZE=$((size_mib * runs * 2 + 2048))M

host_dir=$E2E_DIR/fio-host
mkdir -p "$host_dir"
e2e_defer rm -rf "$host_dir"

# mounted_volume PLUGIN NAME: creates NAME and keeps it mounted by a sleeping container;
# prints its mount point on the host.
mounted_volume() {
  docker volume create -d "$1" "$2" >/dev/null
  docker run -d --name "$2" -v "$2:/data" helix-e2e/busybox sleep 1d >/dev/null
  docker volume inspect --format '{{.Mountpoint}}' "$2"
}
e2e_defer bench_quiet docker volume rm "fio-hv-$tag" "fio-sm-$tag"
e2e_defer bench_quiet docker rm -f "fio-hv-$tag" "fio-sm-$tag"
hv_dir=$(mounted_volume "$BENCH_HV" "fio-hv-$tag")
sm_dir=$(mounted_volume "$sm" "fio-sm-$tag")
hv_loop=$(docker volume inspect --format '{{.Status.loop_device}}' "fio-hv-$tag")
sm_loop=$(docker volume inspect --format '{{.Status.loop_device}}' "fio-sm-$tag")
bench_note 6 "loop direct I/O as helixvol set it up: reflink pool volume $(losetup -nO DIO "$hv_loop" | tr -d ' '), self-managed pool volume $(losetup -nO DIO "$sm_loop" | tr -d ' ') (1 = on); mount options $(findmnt -no OPTIONS "$hv_loop" | head -n 1)"

# run_fio DIR RUN: the three jobs in DIR; appends "seqwrite seqread randwrite" figures
# (MiB/s, MiB/s, IOPS) to the case's list.
declare -A seqw seqr randw
run_fio() {
  local case=$1 dir=$2 run=$3 file json
  file=$dir/fio-$run.dat
  common=(--name=bench --filename="$file" --ioengine=libaio --iodepth=16 --direct=1
    --size="${size_mib}M" --output-format=json)
  json=$(fio "${common[@]}" --rw=write --bs=1M --end_fsync=1)
  seqw[$case]+=" $(fio_figure write bw <<<"$json")"
  bench_drop_caches
  json=$(fio "${common[@]}" --rw=read --bs=1M)
  seqr[$case]+=" $(fio_figure read bw <<<"$json")"
  json=$(fio "${common[@]}" --rw=randwrite --bs=4k --time_based --runtime="$seconds" --end_fsync=1)
  randw[$case]+=" $(fio_figure write iops <<<"$json")"
  rm -f "$file"
}
fio_figure() {
  python3 -c '
import json, sys
job = json.load(sys.stdin)["jobs"][0][sys.argv[1]]
print(round(job["bw"] / 1024, 1) if sys.argv[2] == "bw" else round(job["iops"]))' "$@"
}

for ((r = 1; r <= runs; r++)); do
  bench_log "fio run $r of $runs"
  run_fio host "$host_dir" "$r"
  run_fio helixvol "$hv_dir" "$r"
  losetup --direct-io=off "$hv_loop"
  run_fio no-dio "$hv_dir" "$r"
  losetup --direct-io=on "$hv_loop"
  run_fio self-pool "$sm_dir" "$r"
done

declare -A labels=([helixvol]="helixvol" [no-dio]="helixvol, loop direct I/O off" [self-pool]="helixvol, self-managed XFS pool")
for case in helixvol no-dio self-pool; do
  bench_row 6 "seq write 1 MiB" MiB/s higher "${labels[$case]}" "${seqw[$case]}" "host directory" "${seqw[host]}"
  bench_row 6 "seq read 1 MiB" MiB/s higher "${labels[$case]}" "${seqr[$case]}" "host directory" "${seqr[host]}"
  bench_row 6 "rand write 4 KiB" IOPS higher "${labels[$case]}" "${randw[$case]}" "host directory" "${randw[host]}"
done
bench_note 6 "fio $(fio --version | sed 's/^fio-//'): libaio, iodepth 16, O_DIRECT, ${size_mib} MiB file (written new each run), random writes for ${seconds} s; the host directory is on $(findmnt -no FSTYPE --target "$host_dir"); the reflink pool here is itself an XFS image on a direct-I/O loop device on that same disk (no spare partition)"
