#!/usr/bin/env bash
# Training throughput: one epoch of LeNet-300-100 on MNIST (batch 60) with SGD
# and Adam on 1 and 2 threads, one CIFAR convnet epoch on a slice of CIFAR-10,
# and the same LeNet epoch in numpy when numpy is installed. Writes
# results/train.csv and prints the numpy/ticket ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKET=.build/release/ticket
OUT=results/train.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p results
echo "implementation,model,dataset,optimizer,threads,batch_size,examples,seconds_per_epoch,examples_per_second,test_accuracy" > "$OUT"

run() { # model dataset optimizer lr threads extra-args...
    local model=$1 dataset=$2 optimizer=$3 lr=$4 threads=$5; shift 5
    $TICKET train --model "$model" --dataset "$dataset" --epochs 1 --batch-size 60 --optimizer "$optimizer" \
        --lr "$lr" --seed 1 --threads "$threads" --no-progress --csv "$TMP/run.csv" "$@" > "$TMP/log"
    # CSV row: model,dataset,optimizer,batch,seed,threads,epoch,train_loss,train_acc,test_loss,test_acc,seconds,ex/s
    local examples
    examples=$(grep -o 'train=[0-9]*' "$TMP/log" | head -1 | cut -d= -f2)
    tail -1 "$TMP/run.csv" | awk -F, -v examples="$examples" \
        '{ printf "ticket,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", $1, $2, $3, $6, $4, examples, $12, $13, $11 }' >> "$OUT"
    tail -1 "$OUT"
}

for threads in 1 2; do
    run lenet-300-100 mnist sgd 0.1 $threads
    run lenet-300-100 mnist adam 1.2e-3 $threads
done

# A CIFAR convnet: Conv-2 on the first 1,200 training images (examples/s is
# what matters; a full epoch would take minutes).
CIFAR_ROOT=${TICKET_DATA:-../shared/datasets}
if $TICKET train --model conv-2 --dataset cifar-10 --data-root "$CIFAR_ROOT" --epochs 1 --train-limit 60 \
        --test-limit 60 --no-progress > /dev/null 2>&1; then
    run conv-2 cifar-10 adam 2e-4 2 --data-root "$CIFAR_ROOT" --train-limit 1200 --test-limit 600
else
    echo "note: CIFAR-10 not found (set TICKET_DATA); no convnet row" >&2
fi

if python3 -c 'import numpy' 2>/dev/null; then
    for threads in 1 2; do
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$threads \
            python3 scripts/numpy_lenet.py datasets/mnist | while IFS=, read -r optimizer t seconds rate accuracy; do
            echo "numpy,lenet-300-100,mnist,$optimizer,$t,60,60000,$seconds,$rate,$accuracy" >> "$OUT"
            tail -1 "$OUT"
        done
    done
    awk -F, 'NR > 1 && $2 == "lenet-300-100" { key = $4 "," $5; if ($1 == "ticket") t[key] = $8; else n[key] = $8 }
             END { for (k in t) if (k in n) printf "numpy/ticket time ratio %s threads: %.2f (ticket %.3f s, numpy %.3f s)\n", k, n[k] / t[k], t[k], n[k] }' "$OUT" | sort
else
    echo "note: numpy not installed (pip install numpy); no numpy rows" >&2
fi
