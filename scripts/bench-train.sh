#!/usr/bin/env bash
# Training throughput: one epoch of LeNet-300-100 on MNIST (batch 60) with SGD
# and Adam on 1 and 2 threads, for `ticket train` and, when installed, the
# same epoch in numpy + OpenBLAS (scripts/numpy_lenet.py) and PyTorch
# (scripts/torch_lenet.py); plus ResNet-20, VGG-11/16 and Conv-2/4/6 on CIFAR-10 at
# batch 128 against PyTorch (scripts/torch_cifar.py).
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
            $PYTHON scripts/numpy_lenet.py datasets/mnist
    else
        TORCH_NUM_THREADS="$threads" $PYTHON scripts/torch_lenet.py datasets/mnist
    fi | awk -F, -v r="$round" -v i="$implementation" -v t="$threads" \
        '{ printf "%s,%s,%s,%s,%s,%s,%s\n", r, i, $1, t, $3, $4, $5 }' | tee -a "$TMP/runs.csv"
}

# The Python with numpy (and torch), e.g. PYTHON=/work/venv-torch/bin/python.
PYTHON=${PYTHON:-python3}
peers=()
$PYTHON -c 'import numpy' 2>/dev/null && peers+=(numpy) || echo "note: numpy not installed (pip install numpy); no numpy rows" >&2
$PYTHON -c 'import torch' 2>/dev/null && peers+=(torch) || echo "note: PyTorch not installed (pip install torch); no PyTorch rows" >&2

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

# The study's CIFAR models at batch 128 (SGD, lr 0.1, momentum 0.9, weight
# decay 1e-4) on the first CIFAR_EXAMPLES training images, 1 and 2 threads:
# ticket and the same architecture in PyTorch (scripts/torch_cifar.py), in
# turns, ROUNDS rounds, the fastest epoch counting. Needs CIFAR-10 (TICKET_DATA).
CIFAR_ROOT=${TICKET_DATA:-../shared/datasets}
CIFAR_EXAMPLES=${CIFAR_EXAMPLES:-1280}
CIFAR_MODELS=${CIFAR_MODELS:-resnet-20 vgg-11 vgg-16 conv-2 conv-4 conv-6}
CIFAR_BIN=""
for candidate in "$CIFAR_ROOT/cifar-10-batches-bin" "$CIFAR_ROOT/cifar-10" datasets/cifar-10/cifar-10-batches-bin; do
    [ -f "$candidate/data_batch_1.bin" ] && { CIFAR_BIN=$candidate; break; }
done
echo "round,implementation,model,threads,seconds_per_epoch,examples_per_second" > "$TMP/cifar-runs.csv"
if [ -z "$CIFAR_BIN" ] || ! $TICKET train --model conv-2 --dataset cifar-10 --data-root "$CIFAR_ROOT" --epochs 1 \
        --train-limit 8 --test-limit 8 --batch-size 8 --no-progress > /dev/null 2>&1; then
    echo "note: CIFAR-10 (binary version) not found under $CIFAR_ROOT (set TICKET_DATA); no CIFAR rows" >&2
else
    torch_cifar=false
    $PYTHON -c 'import torch, numpy' 2>/dev/null && torch_cifar=true \
        || echo "note: PyTorch not installed for $PYTHON; CIFAR rows for ticket only" >&2
    for round in $(seq "$ROUNDS"); do
        for model in $CIFAR_MODELS; do
            for threads in 1 2; do
                $TICKET train --model "$model" --dataset cifar-10 --data-root "$CIFAR_ROOT" --epochs 1 --batch-size 128 \
                    --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 1e-4 --seed 1 --threads "$threads" \
                    --train-limit "$CIFAR_EXAMPLES" --test-limit 128 --no-progress --csv "$TMP/cifar.csv" > /dev/null
                tail -1 "$TMP/cifar.csv" | awk -F, -v r="$round" '{ printf "%s,ticket,%s,%s,%s,%s\n", r, $1, $6, $12, $13 }' \
                    | tee -a "$TMP/cifar-runs.csv"
                if $torch_cifar; then
                    TORCH_NUM_THREADS="$threads" $PYTHON scripts/torch_cifar.py "$model" "$CIFAR_BIN" "$CIFAR_EXAMPLES" 2>/dev/null \
                        | awk -F, -v r="$round" '{ printf "%s,torch,%s,%s,%s,%s\n", r, $1, $2, $5, $6 }' | tee -a "$TMP/cifar-runs.csv"
                fi
            done
        done
    done
    cp "$TMP/cifar-runs.csv" results/train-cifar-runs.csv
    awk -F, -v n="$CIFAR_EXAMPLES" 'NR > 1 { key = $2 "," $3 "," $4; runs[key]++
                      if (!(key in best) || $5 < best[key]) { best[key] = $5; rate[key] = $6 } }
             END { for (key in best) { split(key, k, ",")
                       printf "%s,%s,cifar-10,sgd,%s,128,%s,%s,%s,,%d\n", k[1], k[2], k[3], n, best[key], rate[key], runs[key] } }' \
        "$TMP/cifar-runs.csv" | sort -t, -k2,2 -k1,1 -k5,5n >> "$OUT"
fi

echo
column -s, -t "$OUT"
echo
awk -F, 'NR > 1 && $2 == "lenet-300-100" { key = $4 " on " $5 " thread" ($5 == 1 ? "" : "s")
             if ($1 == "ticket") t[key] = $8; else peer[$1 "," key] = $8 }
         END { for (k in peer) { split(k, p, ","); if (p[2] in t)
                   printf "%s/ticket time ratio, %s: %.2f (ticket %.3f s, %s %.3f s)\n", p[1], p[2], peer[k] / t[p[2]], t[p[2]], p[1], peer[k] } }' \
    "$OUT" | sort
awk -F, 'NR > 1 && $3 == "cifar-10" { key = $2 " on " $5 " thread" ($5 == 1 ? "" : "s")
             if ($1 == "ticket") t[key] = $9; else if ($1 == "torch") peer[key] = $9 }
         END { for (k in t) if (k in peer)
                   printf "ticket/PyTorch examples/s, %s: %.2f (ticket %.1f, PyTorch %.1f)\n", k, t[k] / peer[k], t[k], peer[k] }' \
    "$OUT" | sort
