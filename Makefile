# TicketBench: every command does its own set-up on a fresh Debian/Ubuntu machine with Swift 6.
SWIFT      ?= swift
# Numerical code in a debug build is 50-100x slower, so tests run in release
# with testability enabled (for @testable imports).
RELEASE    := -c release
TESTFLAGS  := -c release -Xswiftc -enable-testing
TICKET     := .build/release/ticket
TICKET_DATA ?=

.PHONY: all setup build test bench data verify-data bench-data clean

all: build

# System packages the build needs (zlib headers via pkg-config). Root installs
# them; anyone else gets one line saying what to install.
setup:
	@scripts/ensure-deps.sh zlib1g-dev:zlib pkg-config:

build: setup
	$(SWIFT) build $(RELEASE) --product ticket

test: setup
	$(SWIFT) build $(TESTFLAGS) --build-tests
	$(SWIFT) test $(TESTFLAGS) --skip-build --parallel

# The main job on the embedded default data (vendored MNIST).
bench: build
	$(TICKET) data info datasets/mnist

data: build
	scripts/fetch-data.sh $(if $(TICKET_DATA),--from "$(TICKET_DATA)")

verify-data: build
	$(TICKET) data verify

bench-data: build
	scripts/bench-data.sh

clean:
	rm -rf .build
