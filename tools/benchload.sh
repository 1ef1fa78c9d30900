#!/usr/bin/env bash
# Are the benchmark rows independent of host load?  tools/benchload.sh
# runs `make bench` on a quiet host, then again while a second `make
# grade` runs on the same cores, and prints the disk rows side by side.
# Under -icount, time spent waiting for the disk is idle time (the hart
# sleeps in wfi and the kernel subtracts it), so a row that moves with the
# load counts waiting as work.  Exits 1 if a disk row differs by more than
# MAXDIFF percent (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
MAXDIFF=${MAXDIFF:-10}
ROWS="fs_create fs_write fs_read spawn_wait swap_out swap_in kv_put fs_put kv_get fs_get kv_recover"

make -s kernel/kernel fs.img bench/baremetal >/dev/null
quiet=$(mktemp) loaded=$(mktemp) gradelog=$(mktemp) results=$(mktemp)
trap 'rm -f "$quiet" "$loaded" "$gradelog" "$results"; [[ -n ${gpid:-} ]] && kill "$gpid" 2>/dev/null; true' EXIT

echo "benchload: make bench, quiet host" >&2
tools/bench.sh >"$quiet" 2>&1 || { cat "$quiet"; exit 1; }
echo "benchload: make bench beside a second make grade" >&2
GRADE_RESULTS=$results tools/grade.sh >"$gradelog" 2>&1 &
gpid=$!
sleep 20                                   # the grade is well under way
tools/bench.sh >"$loaded" 2>&1 || { cat "$loaded"; exit 1; }
kill "$gpid" 2>/dev/null || true
wait "$gpid" 2>/dev/null || true
gpid=

row() { awk -v r="$1" '$1 == r && $2 ~ /^[0-9]+$/ {print $2}' "$2"; }   # bench.sh's table
bad=0
printf '%-14s %12s %12s %8s\n' row quiet loaded diff
for r in $ROWS; do
    q=$(row "$r" "$quiet") l=$(row "$r" "$loaded")
    if [[ -z $q || -z $l ]]; then
        printf '%-14s %12s %12s %8s\n' "$r" "${q:--}" "${l:--}" "-"
        continue
    fi
    d=$(awk -v q="$q" -v l="$l" 'BEGIN { printf "%.1f", (l - q) * 100 / q }')
    flag=$(awk -v d="$d" -v m="$MAXDIFF" 'BEGIN { print (d > m || d < -m) ? "  OVER" : "" }')
    [[ -n $flag ]] && bad=1
    printf '%-14s %12s %12s %7s%%%s\n' "$r" "$q" "$l" "$d" "$flag"
done
exit $bad
