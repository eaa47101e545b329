# shellcheck shell=bash source-path=SCRIPTDIR
#
# Benchmark harness, on top of the e2e harness (tests/e2e/lib/harness.sh): a private dockerd
# in its own netns, the offline images, helixvol as host services on a reflink XFS pool.
#
#   bench_init [goldens]   set up (or, under bench/run.sh, join) the shared fixture:
#                          engine "bench", helix-e2e/busybox and helix-e2e/dind, helixvol
#                          host service $BENCH_HV on a reflink XFS state directory; with
#                          "goldens": one golden data root per size in BENCH_SIZES_MIB
#                          (golden-<mib>m, built by `helixvol preload` from an archive of
#                          helix-bench/payload-<mib>m:1) and $BENCH_HVCOPY, a second
#                          helixvol with POOL=copy (a real pread/pwrite copy) holding the
#                          same goldens.
#   bench_runs FULL QUICK  how many runs: FULL, or QUICK under BENCH_QUICK=1
#   bench_us               microseconds since the epoch (bash's EPOCHREALTIME, no fork)
#   bench_ms_since US      milliseconds since US, with three decimals
#   bench_drop_caches      sync and drop the page cache (before every cold run)
#   bench_row SECTION MEASURE UNIT BETTER A_LABEL "A samples" B_LABEL "B samples"
#                          one table row: helixvol's side A against the baseline B, each a
#                          list of samples (bench/report.py prints median, min and max);
#                          BETTER is "lower" (times, bytes) or "higher" (throughput)
#   bench_note SECTION TEXT   a line under the section's table
#
# A comparison script run on its own (bench/x.sh) sets up and tears down its own fixture
# and prints its rows; bench/run.sh sets the fixture up once, exports BENCH_SHARED_DIR and
# runs every script against it.

if [[ -n ${_BENCH_LIB_SH:-} ]]; then
  return 0
fi
_BENCH_LIB_SH=1

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)
# shellcheck source=../tests/e2e/lib/harness.sh
source "$BENCH_ROOT/tests/e2e/lib/harness.sh"

BENCH_QUICK=${BENCH_QUICK:-0}
# shellcheck disable=SC2034 # used by the comparison scripts
BENCH_PY="python3 $BENCH_DIR/sock.py"

bench_log() {
  printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2
}

bench_runs() {
  if [[ $BENCH_QUICK == 1 ]]; then echo "$2"; else echo "$1"; fi
}

bench_us() {
  local t=$EPOCHREALTIME
  echo "${t/./}"
}

bench_ms_since() {
  local now
  now=$(bench_us)
  awk -v a="$1" -v b="$now" 'BEGIN { printf "%.3f", (b - a) / 1000 }'
}

bench_drop_caches() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
}

# bench_cold: drops the page cache, then runs `docker version` once, so that a cold run
# measures the data it reads from disk and not the docker CLI's 40 MB binary being paged in.
bench_cold() {
  bench_drop_caches
  docker version >/dev/null
}

# bench_plugin_ms SOCKET ENDPOINT JSON: one request straight to a plugin's socket; prints
# its time in ms (curl's own timing, without its start-up) and fails on an error answer.
bench_plugin_ms() {
  local out
  out=$(curl -sS --max-time 300 --unix-socket "$1" -X POST "http://plugin/$2" -d "$3" \
    -w '\n%{http_code} %{time_total}') || return 1
  local last=${out##*$'\n'} body=${out%$'\n'*}
  if [[ ${last%% *} != 200 || $body == *'"Err":"'?* ]]; then
    bench_log "$2 $3: $body"
    return 1
  fi
  awk -v t="${last#* }" 'BEGIN { printf "%.3f", t * 1000 }'
}

bench_row() {
  local section=$1 measure=$2 unit=$3 better=$4 a_label=$5 a=$6 b_label=$7 b=$8
  printf 'row\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$measure" "$unit" "$better" \
    "$a_label" "$a" "$b_label" "$b" >>"$BENCH_RESULTS"
  bench_log "result [$section] $measure: $a_label {$a} vs $b_label {$b} ($unit)"
}

bench_note() {
  printf 'note\t%s\t%s\n' "$1" "$2" >>"$BENCH_RESULTS"
  bench_log "note [$1] $2"
}

# bench_median SAMPLES...: the median, for decisions inside a script.
bench_median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_used_bytes DIR: bytes in use on DIR's filesystem (what df calls Used).
bench_used_bytes() {
  sync
  df -B1 --output=used "$1" | tail -n 1 | tr -d ' '
}

# bench_settled_used_bytes DIR: bench_used_bytes once two readings a second apart agree (at
# most 30 s): XFS frees the blocks of removed files in the background, and a reading taken
# while it does would move under the measurement.
bench_settled_used_bytes() {
  local a b tries=0
  a=$(bench_used_bytes "$1")
  while :; do
    sleep 1
    b=$(bench_used_bytes "$1")
    if [[ $a == "$b" ]] || ((++tries >= 30)); then break; fi
    a=$b
  done
  echo "$b"
}

bench_free_bytes() {
  df -B1 --output=avail "$1" | tail -n 1 | tr -d ' '
}

# ---------------------------------------------------------------------------------------------
# Sizes, scaled to the free disk
# ---------------------------------------------------------------------------------------------

# bench_plan_sizes: sets BENCH_SIZES_MIB (the golden data roots of comparison 1), BENCH_MID_MIB
# (the one comparisons 4 and 5 use: the middle one, the smallest under BENCH_QUICK) and
# BENCH_SCALE_NOTE. Full run: 256, 1024 and 4096 MiB;
# quick: 32 and 256 MiB. Halved until the run fits in 70% of the free disk, and said so.
bench_plan_sizes() {
  local sizes=(256 1024 4096)
  if [[ $BENCH_QUICK == 1 ]]; then sizes=(32 256); fi
  local free_mib need_mib sum mid halvings=0
  free_mib=$(($(bench_free_bytes "${TMPDIR:-/tmp}") >> 20))
  while :; do
    sum=0
    for s in "${sizes[@]}"; do sum=$((sum + s)); done
    mid=${sizes[1]}
    if [[ $BENCH_QUICK == 1 ]]; then mid=${sizes[0]}; fi
    # archives + golden roots + the largest load (tar and layer, twice the data) + ten copies
    # of the middle golden (comparison 5) + fio files and slack.
    need_mib=$((sum + sum + 2 * sizes[-1] + 11 * mid + 4096))
    if ((need_mib * 10 <= free_mib * 7 || sizes[0] <= 8)); then break; fi
    for i in "${!sizes[@]}"; do sizes[i]=$((sizes[i] / 2)); done
    halvings=$((halvings + 1))
  done
  BENCH_SIZES_MIB="${sizes[*]}"
  BENCH_MID_MIB=$mid
  BENCH_NEED_MIB=$need_mib
  if ((halvings > 0)); then
    BENCH_SCALE_NOTE="data sizes halved $halvings time(s) to fit the free disk ($((free_mib >> 10)) GiB free, the run needs about $((need_mib >> 10)) GiB)"
  elif [[ $BENCH_QUICK == 1 ]]; then
    BENCH_SCALE_NOTE="BENCH_QUICK=1: smaller data, fewer runs"
  else
    BENCH_SCALE_NOTE="full sizes ($((free_mib >> 10)) GiB free, the run needs about $((need_mib >> 10)) GiB)"
  fi
  export BENCH_SIZES_MIB BENCH_MID_MIB BENCH_NEED_MIB BENCH_SCALE_NOTE
}

# ---------------------------------------------------------------------------------------------
# The fixture
# ---------------------------------------------------------------------------------------------

bench_init() {
  if [[ -n ${BENCH_SHARED_DIR:-} ]]; then
    # Under run.sh: the engine and plugins are run.sh's; this script cleans up only what it
    # made itself (e2e_defer), and never stops an engine.
    e2e_join "$BENCH_SHARED_DIR"
    engine_use bench
  else
    e2e_setup
    BENCH_RESULTS=$E2E_DIR/results.tsv
    : >"$BENCH_RESULTS"
    export BENCH_RESULTS
    e2e_defer _bench_print_own_results
    bench_setup "$@"
  fi
}

_bench_print_own_results() {
  python3 "$BENCH_DIR/report.py" "$BENCH_RESULTS"
}

# bench_setup [goldens]: the shared fixture (see the header). Exports what the scripts need.
bench_setup() {
  bench_plan_sizes
  bench_log "sizes: ${BENCH_SIZES_MIB// / MiB, } MiB; $BENCH_SCALE_NOTE"
  engine_start bench || return 1
  image_busybox || return 1
  image_dind || return 1
  privileged_flags >/dev/null || return 1

  # One XFS filesystem (reflink=1, a sparse image on the host's disk) holds every helixvol
  # state directory but the self-managed pool of comparison 6. Mounted without discard: a
  # 4 GiB copy or image removed would otherwise send its discards down to the host's disk
  # while the next run is timed. The image goes when the run ends.
  BENCH_XFS=$E2E_DIR/xfs
  local xfs_gib=$(((BENCH_NEED_MIB >> 10) + 8))
  mkdir -p "$BENCH_XFS" || return 1
  truncate -s "${xfs_gib}G" "$E2E_DIR/xfs.img" || return 1
  # Its loop device does direct I/O with 4 KiB sectors, as close to a disk partition as an
  # image file gets: a buffered loop device would cache the pool's writes in the host's
  # page cache and flatter every figure measured on it.
  local dev
  dev=$(losetup -f --show --direct-io=on -b 4096 "$E2E_DIR/xfs.img") || return 1
  e2e_defer _bench_umount_xfs "$BENCH_XFS" "$dev" "$E2E_DIR/xfs.img"
  mkfs.xfs -q -f -m reflink=1 "$dev" || return 1
  mount "$dev" "$BENCH_XFS" || return 1
  BENCH_XFS_DEV=$dev
  export BENCH_XFS_DEV
  BENCH_DATA=$E2E_DIR/data
  mkdir -p "$BENCH_DATA"
  export BENCH_XFS BENCH_DATA

  local tag
  tag=$(od -An -N3 -tx1 /dev/urandom | tr -d ' ')
  BENCH_HV=helixvol-bench-$tag
  BENCH_HVCOPY=helixvol-bench-copy-$tag
  export BENCH_HV BENCH_HVCOPY
  bench_start_helixvol "$BENCH_HV" hv || return 1

  if [[ ${1:-} == goldens ]]; then
    bench_make_goldens || return 1
  fi
}

_bench_umount_xfs() {
  e2e_unmount_under "$1"
  losetup -d "$2" 2>/dev/null
  rm -f "$3"
}

# bench_start_helixvol NAME SUBDIR [SETTING=VALUE...]: helixvol_start_host_service NAME (on
# /run/docker/plugins/NAME.sock, or in HELIXVOL_SOCKET_DIR: a plugin only the benchmark talks
# to is best kept out of sight of every engine on the host), its state directory
# $BENCH_XFS/SUBDIR bound to where the harness keeps it ($E2E_DIR/NAME-state), logging at
# info level (the harness's default, debug, is not for the benchmarks to pay for), with the
# given settings in its environment.
bench_start_helixvol() {
  local name=$1 sub=$2
  shift 2
  mkdir -p "$BENCH_XFS/$sub" "$E2E_DIR/$name-state" || return 1
  mount --bind "$BENCH_XFS/$sub" "$E2E_DIR/$name-state" || return 1
  e2e_defer e2e_unmount_under "$E2E_DIR/$name-state"
  helixvol_start_host_service "$name" LOG_LEVEL=info "$@"
}

# bench_plugin_pid NAME: the PID of host service NAME.
bench_plugin_pid() {
  cat "$E2E_DIR/$1.pid"
}

# bench_make_goldens: for each size, an archive of helix-bench/payload-<mib>m:1 (busybox plus
# one file of that many MiB of incompressible data) and a golden data root preloaded from
# it; then the copy-based helixvol holding the same goldens (reflinked into its pool before
# it starts, so seeding it copies nothing).
bench_make_goldens() {
  local busybox_tar=$BENCH_DATA/busybox-save.tar mib
  docker save helix-e2e/busybox >"$busybox_tar" || return 1
  local shape
  shape=$(helixvol_preload_shape) || return 1
  local -a shape_flags
  mapfile -t shape_flags <<<"$shape"
  for mib in $BENCH_SIZES_MIB; do
    local archive=$BENCH_DATA/payload-${mib}m.tar t0
    t0=$(bench_us)
    python3 "$BENCH_DIR/make_archive.py" "$archive" "helix-bench/payload-${mib}m:1" \
      $((mib << 20)) "$busybox_tar" || return 1
    bench_log "archive payload-${mib}m.tar: $(($(stat -c %s "$archive") >> 20)) MiB in $(bench_ms_since "$t0") ms"
  done
  # One at a time, so that each golden's preload time is its own; under BENCH_QUICK all at
  # once (and then not reported).
  local pids=() pid
  for mib in $BENCH_SIZES_MIB; do
    if [[ $BENCH_QUICK == 1 ]]; then
      _bench_preload "$mib" "${shape_flags[@]}" &
      pids+=($!)
    else
      _bench_preload "$mib" "${shape_flags[@]}" || return 1
    fi
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || return 1
  done
  if [[ $BENCH_QUICK == 1 ]]; then rm -f "$BENCH_DATA"/preload-*.ms; fi
  # The copy-based plugin's pool: the same goldens, reflinked in before it starts.
  local src=$BENCH_XFS/hv/volumes dst=$BENCH_XFS/hvcopy/volumes
  mkdir -p "$dst" || return 1
  for mib in $BENCH_SIZES_MIB; do
    cp -a --reflink=always "$src/golden-${mib}m" "$dst/" || return 1
  done
  bench_start_helixvol "$BENCH_HVCOPY" hvcopy POOL=copy || return 1
  # Every engine on the host sees the host services in /run/docker/plugins, and a `docker
  # volume prune -a` in any of them (the e2e tests' clean-up does one) removes every volume
  # that is not mounted. So the goldens stay mounted (read-only snapshots: a Mount straight
  # at the plugin's socket, under a mount ID of our own) while the benchmarks run.
  local plugin
  for plugin in "$BENCH_HV" "$BENCH_HVCOPY"; do
    for mib in $BENCH_SIZES_MIB; do
      bench_plugin_ms "/run/docker/plugins/$plugin.sock" VolumeDriver.Mount \
        "{\"Name\":\"golden-${mib}m\",\"ID\":\"bench-hold\"}" >/dev/null || return 1
      e2e_defer bench_quiet bench_plugin_ms "/run/docker/plugins/$plugin.sock" \
        VolumeDriver.Unmount "{\"Name\":\"golden-${mib}m\",\"ID\":\"bench-hold\"}"
    done
  done
}

# _bench_preload MIB SHAPE_FLAGS...: golden-<MIB>m from its archive, by `helixvol preload`;
# its time in ms goes to $BENCH_DATA/preload-<MIB>m.ms.
_bench_preload() {
  local mib=$1 t0 ms
  shift
  t0=$(bench_us)
  "$HELIXVOL_BINARY" preload --name "golden-${mib}m" --engine-image helix-e2e/dind "$@" \
    --driver "$BENCH_HV" --size 20G --archive "$BENCH_DATA/payload-${mib}m.tar" \
    >"$E2E_DIR/preload-${mib}m.log" 2>&1 || {
    tail -n 30 "$E2E_DIR/preload-${mib}m.log" >&2
    return 1
  }
  ms=$(bench_ms_since "$t0")
  echo "$ms" >"$BENCH_DATA/preload-${mib}m.ms"
  bench_log "golden-${mib}m preloaded in $ms ms"
}

# bench_inner_script CMD: a shell script for a dind container that waits (polling every
# 50 ms) until the inner engine answers, then runs CMD.
bench_inner_script() {
  printf 'until docker version >/dev/null 2>&1; do sleep 0.05; done; %s' "$1"
}

# bench_priv_flags: fills the array BENCH_PRIV with the harness's privileged flags.
bench_priv_flags() {
  local flags
  flags=$(privileged_flags) || return 1
  # shellcheck disable=SC2034 # used by the caller
  mapfile -t BENCH_PRIV <<<"$flags"
}

# bench_volume_image NAME PLUGIN_SUBDIR: the disk.img path of volume NAME.
bench_volume_image() {
  echo "$BENCH_XFS/$2/volumes/$1/disk.img"
}

# bench_quiet CMD...: CMD with its output discarded, for deferred clean-ups that may find
# nothing left to clean.
bench_quiet() {
  "$@" >/dev/null 2>&1 || true
}
