# TicketBench: every command does its own set-up on a fresh Debian/Ubuntu machine with Swift 6.
SWIFT      ?= swift
# Numerical code in a debug build is 50-100x slower, so tests run in release
# with testability enabled (for @testable imports).
# One configuration for every target, so make test / make bench never rebuild
# each other's objects.
FLAGS      := -c release -Xswiftc -enable-testing
TICKET     := .build/release/ticket
TICKET_DATA ?=

CI_SWEEP   := .build/ci-sweep

.PHONY: all setup build test test-slurm check-baseline baseline bench reproduce bench-gemm data verify-data bench-data bench-train bench-sparse bench-check bench-check-baseline check-portable callgrind-build clean

all: build

# System packages the build needs (zlib headers via pkg-config). Root installs
# them; anyone else gets one line saying what to install.
setup:
	@scripts/ensure-deps.sh zlib1g-dev:zlib pkg-config:

build: setup
	$(SWIFT) build $(FLAGS) --product ticket

test: setup
	$(SWIFT) build $(FLAGS) --build-tests
	$(SWIFT) test $(FLAGS) --skip-build
	@$(MAKE) --no-print-directory check-baseline

# A seconds-long sweep compared against the committed baseline summary: a
# change that moves any mean by more than 3 standard errors fails the build.
check-baseline:
	rm -rf $(CI_SWEEP)
	$(TICKET) sweep Benchmarks/sweeps/ci.json --out $(CI_SWEEP)
	$(TICKET) compare results/baseline/ci-summary.csv $(CI_SWEEP)/summary.csv --max-se 3

# The sweep on a real one-node Slurm on loopback (root: installs slurm-wlm
# and munge, starts and then stops their daemons): ticket submit --workers 3,
# with and without a cancelled task, against a serial sweep.
test-slurm: build
	scripts/test-slurm.sh

# Regenerates the committed baseline (after an intended change of numerics).
baseline: build
	rm -rf $(CI_SWEEP)
	$(TICKET) sweep Benchmarks/sweeps/ci.json --out $(CI_SWEEP)
	cp $(CI_SWEEP)/summary.csv results/baseline/ci-summary.csv

# The main job on the embedded default data (vendored MNIST): the default
# sweep, resumable (rerun to continue), tables, workbook and plot in
# results/default/; the sweep ends by printing the summary table.
bench: build
	$(TICKET) data info datasets/mnist
	$(TICKET) sweep Benchmarks/sweeps/default.json --out results/default

# The study-scale manifests (hours to days on 2 cores; resumable).
reproduce: build
	@for m in Benchmarks/sweeps/study-*.json; do \
	  $(TICKET) sweep $$m --dry-run --out results/$$(basename $$m .json) | tail -n 1; \
	  $(TICKET) sweep $$m --out results/$$(basename $$m .json) || exit 1; \
	done

# GEMM against OpenBLAS (a benchmark-only dependency, in the separate
# Benchmarks/ package, so the library never links it). OpenBLAS's kernel
# overrides are unset so it picks its own kernel for this CPU.
bench-gemm: setup
	@scripts/ensure-deps.sh libopenblas-dev:openblas
	cd Benchmarks && $(SWIFT) build -c release --product gemm-bench
	@uptime
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE Benchmarks/.build/release/gemm-bench --csv results/gemm.csv

data: build
	scripts/fetch-data.sh $(if $(TICKET_DATA),--from "$(TICKET_DATA)")

verify-data: build
	$(TICKET) data verify

# Decoding speed and peak memory against gzip -dc (writes results/data.csv).
bench-data: build
	@mkdir -p results
	$(TICKET) data bench datasets/mnist/train-images-idx3-ubyte.gz --csv results/data.csv

clean:
	rm -rf .build

# Training throughput (LeNet-300-100 on MNIST, batch 60, SGD and Adam, 1 and
# 2 threads; one CIFAR convnet) and the same epoch in numpy: results/train.csv.
bench-train: build
	scripts/bench-train.sh

# Dense against sparse execution: per layer at densities 1 … 1/256
# (results/sparse.csv) and the whole 7-level LeNet lottery run with
# --execution auto vs dense (results/sparse-lottery.csv); EPOCHS=2 for a
# shorter run.
bench-sparse: build
	cd Benchmarks && $(SWIFT) build -c release --product sparse-bench
	scripts/bench-sparse.sh

# Instruction-count regression guard: fixed seeded workloads (a few training
# steps of LeNet-300-100, Conv-2, ResNet-20, and of LeNet and Conv-2 pruned
# to 1/64 and 1/16 for the sparse kernels; a few GEMMs) counted exactly by
# callgrind on 1 thread, against results/baseline/instructions.csv; fails when
# a count grows by more than 3%. Valgrind cannot decode AVX-512, so this
# binary is built for a fixed AVX2 + FMA CPU (haswell) in its own directory:
# the counts then do not depend on the host's CPU either.
CALLGRIND_SCRATCH := .build-callgrind
callgrind-build: setup
	@scripts/ensure-deps.sh valgrind: util-linux:
	$(SWIFT) build -c release --scratch-path $(CALLGRIND_SCRATCH) --product ticket -Xswiftc -target-cpu -Xswiftc haswell

bench-check: callgrind-build
	scripts/bench-check.sh

# The native build (AVX-512 where the host has it) and the AVX2 build above
# must give byte-identical tables: no result depends on the instruction set.
# Then the kernel tests run on an AVX2 build too (its 6 x 16 tile, 8 x 8
# transposes and the sparse kernels' non-AVX-512 paths; own scratch path).
HASWELL_SCRATCH := .build-haswell
check-portable: build callgrind-build
	scripts/check-portable.sh
	$(SWIFT) build $(FLAGS) --build-tests --scratch-path $(HASWELL_SCRATCH) -Xswiftc -target-cpu -Xswiftc haswell
	$(SWIFT) test $(FLAGS) --skip-build --scratch-path $(HASWELL_SCRATCH) -Xswiftc -target-cpu -Xswiftc haswell \
	  --filter 'MatrixKernelsTests|SparseExecutionTests'

# Rewrites the committed baseline after an intended change (say why in the commit).
bench-check-baseline: callgrind-build
	scripts/bench-check.sh --update
