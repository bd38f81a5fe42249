#!/usr/bin/env bash
# make bench-sparse: dense against sparse execution, each pair timed in
# turns in one run (this host's speed drifts ~2x between runs).
#
# 1. Per layer (Benchmarks/sparse-bench): one training pass (forward +
#    backward) at densities 1 … 1/256 on the dense and the sparse path, best
#    of ROUNDS_LAYERS (default 5) -> results/sparse.csv.
# 2. The whole LeNet-300-100 lottery run of issue 12 (MNIST, SGD lr 0.01,
#    batch 128, 7 levels = rounds 0..6 at rate 0.5, EPOCHS per level,
#    default 10) with `ticket sweep --execution auto` against `--execution
#    dense`, ROUNDS (default 1) rounds taking turns -> results/sparse-lottery.csv.
#    LAYERS=0 skips part 1.
#    The two sweeps' runs.csv must agree except for wall times. Each level's
#    wall time -> results/sparse-lottery-levels.csv, with the bound that the
#    levels at dense cost (density 1/4 and above) put on the whole ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKET=.build/release/ticket
EPOCHS=${EPOCHS:-10}
ROUNDS=${ROUNDS:-1}
ROUNDS_LAYERS=${ROUNDS_LAYERS:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p results

echo "load before: $(uptime)"
if [ "${LAYERS:-1}" != 0 ]; then
    Benchmarks/.build/release/sparse-bench --rounds "$ROUNDS_LAYERS" --csv results/sparse.csv
    echo "load after the layers: $(uptime)"
fi

cat > "$TMP/lottery.json" <<EOF
{
  "name": "bench-sparse-lottery",
  "description": "Issue 12's whole run: LeNet-300-100 on MNIST, iterative magnitude pruning, 7 levels.",
  "models": ["lenet-300-100"],
  "datasets": ["mnist"],
  "criteria": [{"name": "magnitude"}],
  "schedules": [{"kind": "iterative", "rate": 0.5, "rounds": 6, "rewindIteration": 0}],
  "seeds": [1],
  "training": {"optimizer": "sgd", "learningRate": 0.01, "batchSize": 128, "epochsPerRound": $EPOCHS}
}
EOF
echo "round,execution,epochs_per_level,seconds" > "$TMP/lottery.csv"
echo "round,execution,level,density,seconds" > "$TMP/levels.csv"
for round in $(seq 1 "$ROUNDS"); do
    order="dense auto"; [ $((round % 2)) -eq 0 ] && order="auto dense"
    for execution in $order; do
        out="$TMP/$execution-$round"
        start=$(date +%s.%N)
        $TICKET sweep "$TMP/lottery.json" --out "$out" --execution "$execution" > "$TMP/$execution-$round.log"
        end=$(date +%s.%N)
        seconds=$(awk "BEGIN { print $end - $start }")
        echo "$round,$execution,$EPOCHS,$seconds" | tee -a "$TMP/lottery.csv"
        python3 - "$out/runs.csv" "$round" "$execution" >> "$TMP/levels.csv" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    print(f"{sys.argv[2]},{sys.argv[3]},{row['round']},{row['density_achieved']},{row['wall_seconds']}")
PY
    done
    # Same tables: every runs.csv column but the wall times.
    strip() { python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = [i for i, name in enumerate(rows[0]) if "second" not in name and "time" not in name]
for row in rows: print(",".join(row[i] for i in keep))
PY
    }
    if ! diff <(strip "$TMP/dense-$round/runs.csv") <(strip "$TMP/auto-$round/runs.csv") > "$TMP/diff.txt"; then
        echo "runs.csv differs between --execution dense and auto:"; cat "$TMP/diff.txt"; exit 1
    fi
done
cp "$TMP/lottery.csv" results/sparse-lottery.csv
cp "$TMP/levels.csv" results/sparse-lottery-levels.csv
echo "load after the lottery runs: $(uptime)"
awk -F, 'NR > 1 { total[$2] += $4 } END { printf "whole 7-level run: dense %.1f s, auto %.1f s, dense/auto %.2fx\n", total["dense"], total["auto"], total["dense"] / total["auto"] }' results/sparse-lottery.csv
# Per level, summed over rounds. The bound: the whole ratio if the levels
# at density 1/4 and above cost what dense does (their layers' sparse
# products lose there, so auto keeps the GEMMs: SparseCrossover) and every
# sparser level took no time at all.
python3 - results/sparse-lottery-levels.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
levels = sorted({int(r["level"]) for r in rows})
def total(execution, level):
    return sum(float(r["seconds"]) for r in rows if r["execution"] == execution and int(r["level"]) == level)
density = {int(r["level"]): float(r["density"]) for r in rows}
print("level density dense_s auto_s dense/auto")
for level in levels:
    d, a = total("dense", level), total("auto", level)
    print(f"{level:5d} {density[level]:8.5f} {d:7.2f} {a:7.2f} {d / a:9.2f}x")
dense = sum(total("dense", l) for l in levels)
kept = sum(total("dense", l) for l in levels if density[l] >= 0.25)
if kept > 0:
    print(f"levels at density >= 1/4: {kept / dense:.0%} of the dense run; "
          f"were the sparser ones free, the whole run would be {dense / kept:.2f}x")
PY
