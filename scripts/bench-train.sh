#!/usr/bin/env bash
# Training throughput: one epoch of LeNet-300-100 on MNIST (batch 60) with SGD
# and Adam on 1 and 2 threads, for `ticket train` and, when installed, the
# same epoch in numpy + OpenBLAS (scripts/numpy_lenet.py) and PyTorch
# (scripts/torch_lenet.py); plus one CIFAR convnet's examples/s.
#
# This machine is a VM whose second vCPU is sometimes a whole core and
# sometimes not (see Benchmarks/README.md), so every configuration runs
# ROUNDS times (default 3), the implementations taking turns within each
# round, and the fastest epoch counts. Every timed epoch is kept in
# results/train-runs.csv; the best per configuration goes to
# results/train.csv, and the peer/ticket time ratios are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKET=.build/release/ticket
ROUNDS=${ROUNDS:-3}
OUT=results/train.csv
RUNS=results/train-runs.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p results
echo "round,implementation,optimizer,threads,seconds_per_epoch,examples_per_second,test_accuracy" > "$TMP/runs.csv"

ticket_epoch() { # round optimizer lr threads
    local round=$1 optimizer=$2 lr=$3 threads=$4
    $TICKET train --model lenet-300-100 --dataset mnist --epochs 1 --batch-size 60 --optimizer "$optimizer" \
        --lr "$lr" --seed 1 --threads "$threads" --no-progress --csv "$TMP/run.csv" > /dev/null
    # CSV row: model,dataset,optimizer,batch,seed,threads,epoch,train_loss,train_acc,test_loss,test_acc,seconds,ex/s
    tail -1 "$TMP/run.csv" | awk -F, -v r="$round" '{ printf "%s,ticket,%s,%s,%s,%s,%s\n", r, $3, $6, $12, $13, $11 }' \
        | tee -a "$TMP/runs.csv"
}

peer_epochs() { # round implementation threads: one process, SGD then Adam
    local round=$1 implementation=$2 threads=$3
    if [ "$implementation" = numpy ]; then
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" \
            python3 scripts/numpy_lenet.py datasets/mnist
    else
        TORCH_NUM_THREADS="$threads" python3 scripts/torch_lenet.py datasets/mnist
    fi | awk -F, -v r="$round" -v i="$implementation" -v t="$threads" \
        '{ printf "%s,%s,%s,%s,%s,%s,%s\n", r, i, $1, t, $3, $4, $5 }' | tee -a "$TMP/runs.csv"
}

peers=()
python3 -c 'import numpy' 2>/dev/null && peers+=(numpy) || echo "note: numpy not installed (pip install numpy); no numpy rows" >&2
python3 -c 'import torch' 2>/dev/null && peers+=(torch) || echo "note: PyTorch not installed (pip install torch); no PyTorch rows" >&2

for round in $(seq "$ROUNDS"); do
    for threads in 1 2; do
        ticket_epoch "$round" sgd 0.1 "$threads"
        ticket_epoch "$round" adam 1.2e-3 "$threads"
        for peer in "${peers[@]}"; do peer_epochs "$round" "$peer" "$threads"; done
    done
done
cp "$TMP/runs.csv" "$RUNS"

echo "implementation,model,dataset,optimizer,threads,batch_size,examples,seconds_per_epoch,examples_per_second,test_accuracy,runs" > "$OUT"
awk -F, 'NR > 1 { key = $2 "," $3 "," $4; n[key]++
                  if (!(key in best) || $5 < best[key]) { best[key] = $5; rate[key] = $6; acc[key] = $7 } }
         END { for (key in best) { split(key, k, ",")
                   printf "%s,lenet-300-100,mnist,%s,%s,60,60000,%s,%s,%s,%d\n", k[1], k[2], k[3], best[key], rate[key], acc[key], n[key] } }' \
    "$RUNS" | sort -t, -k1,1 -k4,4 -k5,5n >> "$OUT"

# A CIFAR convnet: Conv-2 on the first 1,200 training images, once
# (examples/s is what matters; a full epoch would take minutes).
CIFAR_ROOT=${TICKET_DATA:-../shared/datasets}
if $TICKET train --model conv-2 --dataset cifar-10 --data-root "$CIFAR_ROOT" --epochs 1 --train-limit 60 \
        --test-limit 60 --no-progress > /dev/null 2>&1; then
    $TICKET train --model conv-2 --dataset cifar-10 --data-root "$CIFAR_ROOT" --epochs 1 --batch-size 60 \
        --optimizer adam --lr 2e-4 --seed 1 --threads 2 --train-limit 1200 --test-limit 600 --no-progress \
        --csv "$TMP/conv.csv" > /dev/null
    tail -1 "$TMP/conv.csv" | awk -F, '{ printf "ticket,%s,%s,%s,%s,%s,1200,%s,%s,%s,1\n", $1, $2, $3, $6, $4, $12, $13, $11 }' >> "$OUT"
else
    echo "note: CIFAR-10 not found (set TICKET_DATA); no convnet row" >&2
fi

echo
column -s, -t "$OUT"
echo
awk -F, 'NR > 1 && $2 == "lenet-300-100" { key = $4 " on " $5 " thread" ($5 == 1 ? "" : "s")
             if ($1 == "ticket") t[key] = $8; else peer[$1 "," key] = $8 }
         END { for (k in peer) { split(k, p, ","); if (p[2] in t)
                   printf "%s/ticket time ratio, %s: %.2f (ticket %.3f s, %s %.3f s)\n", p[1], p[2], peer[k] / t[p[2]], t[p[2]], p[1], peer[k] } }' \
    "$OUT" | sort
