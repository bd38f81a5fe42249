#!/usr/bin/env bash
# make check-portable: the same results whatever instruction set the build
# targets. The GEMM's tile (6 x 32 with AVX-512, 6 x 16 with AVX2), the
# sparse kernels' transposes and the packing differ between the native build
# (.build/) and the AVX2 + FMA build of make bench-check (.build-callgrind/,
# -target-cpu haswell), but every product sums in the same order, so both
# must give byte-identical tables: the CI sweep (LeNet-300-100, dense and
# sparse rounds) always, and a short ResNet-20 run when CIFAR-10 is present
# (TICKET_DATA). On a host without AVX-512 both builds are AVX2 and this
# only checks that they agree.
set -euo pipefail
cd "$(dirname "$0")/.."
NATIVE=.build/release/ticket
PORTABLE=.build-callgrind/release/ticket
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for binary in "$NATIVE" "$PORTABLE"; do
    [ -x "$binary" ] || { echo "error: $binary not built (run make check-portable)" >&2; exit 1; }
done

status=0
for build in native portable; do
    binary=$NATIVE; [ $build = portable ] && binary=$PORTABLE
    "$binary" sweep Benchmarks/sweeps/ci.json --out "$TMP/$build" > "$TMP/$build.log" 2>&1 \
        || { echo "error: the CI sweep failed with $binary:" >&2; tail -n 5 "$TMP/$build.log" >&2; exit 1; }
done
for table in summary.csv layers.csv overlap.csv; do
    if cmp -s "$TMP/native/$table" "$TMP/portable/$table"; then
        echo "ok: CI sweep $table byte-identical (native and haswell builds)"
    else
        echo "FAIL: CI sweep $table differs between the native and the haswell build:" >&2
        diff "$TMP/native/$table" "$TMP/portable/$table" | head -n 10 >&2 || true
        status=1
    fi
done

if "$NATIVE" train --model resnet-20 --dataset cifar-10 --epochs 1 --train-limit 8 --test-limit 8 --batch-size 8 \
        --no-progress > /dev/null 2>&1; then
    for binary in "$NATIVE" "$PORTABLE"; do
        # lr 0.01 keeps it finite; loss and accuracy with six decimals.
        "$binary" train --model resnet-20 --dataset cifar-10 --epochs 1 --batch-size 32 --optimizer sgd --lr 0.01 \
            --momentum 0.9 --weight-decay 1e-4 --train-limit 128 --test-limit 64 --seed 3 --no-progress \
            --csv "$TMP/$(basename "$(dirname "$(dirname "$binary")")").csv" > /dev/null
    done
    native_row=$(tail -1 "$TMP/.build.csv" | cut -d, -f1-11)
    portable_row=$(tail -1 "$TMP/.build-callgrind.csv" | cut -d, -f1-11)
    if [ "$native_row" = "$portable_row" ]; then
        echo "ok: ResNet-20 epoch identical (native and haswell builds): $native_row"
    else
        echo "FAIL: ResNet-20 epoch differs: native $native_row, haswell $portable_row" >&2
        status=1
    fi
else
    echo "note: CIFAR-10 not found (set TICKET_DATA); the ResNet-20 comparison is skipped"
fi
exit $status
