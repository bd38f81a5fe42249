#!/usr/bin/env bash
# Instruction-count regression guard (make bench-check).
#
# Runs every workload of `ticket instruction-workload --list` (a few seeded
# training steps of LeNet-300-100, Conv-2 and ResNet-20 on random images, the
# LeNet and Conv-2 steps also pruned to 1/64 and 1/16 so that they take the
# sparse kernels, and a few GEMM shapes) under `valgrind --tool=callgrind`, on one thread,
# counting only the instructions inside `measuredRegion` (the steps or the
# product, not start-up or set-up), and compares the instruction counts with
# results/baseline/instructions.csv. Fails when any count grows by more than
# MAX_GROWTH percent (default 3), naming the workload and the growth.
#
# Callgrind counts exactly: the same binary and input give the same count
# whatever else the machine is doing, so this is stable on a noisy VM where
# timings vary 2x. The counts depend on the compiler, on valgrind and on the
# instruction set the binary was built for, so the binary is built for one
# fixed CPU (haswell: AVX2 + FMA, which valgrind decodes; it has no AVX-512)
# in its own build directory, and the baseline records the versions.
#
# Usage: bench-check.sh            compare with the baseline
#        bench-check.sh --update   rewrite the baseline (after an intended change)
set -euo pipefail
cd "$(dirname "$0")/.."
TICKET=${CALLGRIND_TICKET:-.build-callgrind/release/ticket}
BASELINE=results/baseline/instructions.csv
MAX_GROWTH=${MAX_GROWTH:-3}
update=false
[ "${1:-}" = --update ] && update=true

command -v valgrind >/dev/null 2>&1 || { echo "error: valgrind not installed (apt-get install -y valgrind)" >&2; exit 1; }
[ -x "$TICKET" ] || { echo "error: $TICKET not built (run make bench-check)" >&2; exit 1; }

swift_version=$(swift --version 2>/dev/null | grep -o 'Swift version [0-9.]*' | head -1 | cut -d' ' -f3)
valgrind_version=$(valgrind --version)
provenance="# swift ${swift_version:-unknown}, ${valgrind_version}, target-cpu haswell, 1 thread"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "workload,instructions" > "$TMP/now.csv"
for workload in $($TICKET instruction-workload --list); do
    # One CPU, so the matrix kernels' pool starts no second thread (its
    # spinning would make the count depend on scheduling).
    if ! taskset -c 0 valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='*measuredRegion*' \
            "$TICKET" instruction-workload "$workload" > "$TMP/out" 2> "$TMP/err"; then
        echo "error: workload $workload failed under callgrind:" >&2
        tail -n 20 "$TMP/err" >&2
        exit 1
    fi
    count=$(grep -o 'Collected : [0-9]*' "$TMP/err" | awk '{ print $3 }')
    [ -n "$count" ] || { echo "error: no instruction count for $workload" >&2; tail -n 20 "$TMP/err" >&2; exit 1; }
    echo "$workload,$count" >> "$TMP/now.csv"
done

if $update; then
    { echo "$provenance"; cat "$TMP/now.csv"; } > "$TMP/baseline.csv"
    mv "$TMP/baseline.csv" "$BASELINE"
    echo "wrote $BASELINE:"
    column -s, -t "$BASELINE"
    exit 0
fi

[ -f "$BASELINE" ] || { echo "error: $BASELINE missing (make bench-check-baseline writes it)" >&2; exit 1; }
recorded=$(head -n 1 "$BASELINE")
if [ "$recorded" != "$provenance" ]; then
    echo "warning: the baseline was recorded with a different tool chain; counts may differ for that reason alone" >&2
    echo "  baseline: $recorded" >&2
    echo "  now:      $provenance" >&2
fi
awk -F, -v max="$MAX_GROWTH" '
    FNR == 1 || /^#/ { next }
    NR == FNR { base[$1] = $2; next }
    { now = $2
      if (!($1 in base)) { printf "%-22s %15s %15d   new (no baseline row)\n", $1, "-", now; next }
      change = 100 * (now - base[$1]) / base[$1]
      verdict = change > max ? "FAIL: grew by more than " max "%" : (change < -max ? "faster (update the baseline)" : "ok")
      printf "%-22s %15d %15d %+8.2f%%  %s\n", $1, base[$1], now, change, verdict
      if (change > max) { failed = failed " " $1 sprintf(" (%+.2f%%)", change) }
      seen[$1] = 1 }
    END { for (w in base) if (!(w in seen)) { printf "%-22s %15d %15s   missing from this run\n", w, base[w], "-"; failed = failed " " w " (missing)" }
          if (failed != "") { printf "bench-check failed:%s\n", failed; exit 1 }
          print "bench-check passed: no count grew by more than " max "%" }
' <(grep -v '^#' "$BASELINE") "$TMP/now.csv" | { printf "%-22s %15s %15s %9s\n" workload baseline now change; cat; }
