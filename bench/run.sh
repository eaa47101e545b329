#!/usr/bin/env bash
# make bench: every comparison, both sides measured in this run on this machine, against one
# fixture (bench/lib.sh): a private dockerd in its own netns, the offline images, helixvol
# host services on a reflink XFS pool, golden data roots preloaded from generated archives.
# Prints the table of medians and ratios and writes it, with the machine's description, into
# docs/BENCHMARKS.md between the "bench:begin" and "bench:end" markers (the reading around
# them is kept).
#
#   BENCH_QUICK=1        fewer runs, data sizes an eighth (under 3 minutes)
#   BENCH_ONLY="fio scale"   run only these comparisons
#   BENCH_DOC=FILE       where to write the table (default docs/BENCHMARKS.md; "-" for none)
#   HELIXVOL_BINARY, HELIXAUTHZ_BINARY   the binaries (default build/helixvol, build/helixauthz)
#
# Benchmarks report, they never fail on time; a comparison that breaks is reported as such
# and makes the exit status non-zero.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

comparisons=(clone_vs_copy fresh_volume mount_path session_start disk fio authz scale)
if [[ -n ${BENCH_ONLY:-} ]]; then read -ra comparisons <<<"$BENCH_ONLY"; fi
doc=${BENCH_DOC:-$BENCH_ROOT/docs/BENCHMARKS.md}

e2e_setup
BENCH_RESULTS=$E2E_DIR/results.tsv
: >"$BENCH_RESULTS"
export BENCH_RESULTS
started=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_setup goldens || e2e_fail "benchmark set-up failed"
export BENCH_SHARED_DIR=$E2E_DIR
bench_log "set-up done in $((SECONDS - started)) s"

declare -A section=([clone_vs_copy]=1 [fresh_volume]=2 [mount_path]=3 [session_start]=4
  [disk]=5 [fio]=6 [authz]=7 [scale]=8)
timings=()
for c in "${comparisons[@]}"; do
  t=$SECONDS
  bench_log "=== $c"
  if bash "$BENCH_DIR/$c.sh"; then
    e2e_pass "$c ($((SECONDS - t)) s)"
  else
    bench_note "${section[$c]:-?}" "FAILED: bench/$c.sh exited with an error (see its output above)"
    E2E_FAILED=$((E2E_FAILED + 1))
    e2e_log "FAIL: $c"
  fi
  timings+=("$c $((SECONDS - t)) s")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

machine() {
  local cpu mem fs
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  fs=$(findmnt -no FSTYPE --target "$E2E_DIR")
  echo "| | |"
  echo "| --- | --- |"
  echo "| CPU | $cpu, $(nproc) cores |"
  echo "| memory | $mem |"
  echo "| kernel | $(uname -r) |"
  echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME") |"
  echo "| dockerd | $(dockerd --version | sed 's/^Docker version //') |"
  echo "| fio | $(fio --version 2>/dev/null || echo 'not installed') |"
  echo "| host filesystem (state dirs, baseline) | $fs on $(findmnt -no SOURCE --target "$E2E_DIR") |"
  echo "| helixvol pool | XFS (reflink=1) in a sparse image on a direct-I/O loop device on that $fs |"
  echo "| load average (1, 5, 15 min) | before $load_before, after $load_after |"
  echo "| run | $(date -u +%FT%TZ), $((SECONDS - started)) s, $([[ $BENCH_QUICK == 1 ]] && echo 'BENCH_QUICK=1' || echo 'full'), commit $(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') |"
  echo "| data sizes | ${BENCH_SIZES_MIB// / MiB, } MiB golden roots: $BENCH_SCALE_NOTE |"
}

table=$E2E_DIR/table.md
{
  echo "Machine:"
  echo
  machine
  echo
  echo "Each cell: **median** (min – max) over the runs; ratio = the helix side's median ÷ the baseline's;"
  echo "↓ lower is better (times, bytes), ↑ higher is better (throughput)."
  echo
  python3 "$BENCH_DIR/report.py" "$BENCH_RESULTS"
  echo "Time per comparison: ${timings[*]/%/;}" | sed 's/;$//'
} >"$table"
echo
cat "$table"

if [[ $doc != - ]]; then
  python3 - "$doc" "$table" <<'PY'
import os, sys
doc, table = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
begin, end = "<!-- bench:begin (written by make bench) -->", "<!-- bench:end -->"
text = open(doc, encoding="utf-8").read() if os.path.exists(doc) else (
    "# Benchmarks\n\n`make bench` output:\n\n" + begin + "\n" + end + "\n")
if begin not in text or end not in text:
    text = text.rstrip("\n") + "\n\n" + begin + "\n" + end + "\n"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w", encoding="utf-8").write(head + begin + "\n" + table.rstrip("\n") + "\n" + end + tail)
PY
  bench_log "wrote the table into $doc"
fi
