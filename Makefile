# vitals — two commands for a fresh machine with Go:
#   make run    build and start vitals
#   make test   install what the tests need, then run every test
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
BIN     := bin/vitals

# make generate / check-generate / vmlinux: the eBPF objects (bpf/).
include bpf/generate.mk

# Debian packages the tests use: tmux drives the end-to-end test; sysstat
# (mpstat, pidstat) and procps (vmstat) are the independent sources our
# numbers are checked against.
TEST_TOOLS := tmux:tmux mpstat:sysstat pidstat:sysstat iostat:sysstat sar:sysstat vmstat:procps nstat:iproute2 ip:iproute2 losetup:mount nft:nftables

.PHONY: all build run test test-deps vet fuzz-short bench bench-scan bench-overhead bench-ebpf bench-runqlat clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

run: build
	./$(BIN) $(ARGS)

# Installs missing tools with apt-get (as root, or through sudo).
test-deps:
	@missing=""; for t in $(TEST_TOOLS); do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing test tools:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# check-generate proves the committed eBPF objects match their sources
# when clang is installed, and says it skipped otherwise.
test: test-deps vet check-generate
	$(GO) test -race -count=1 -timeout 8m ./...
	$(MAKE) --no-print-directory fuzz-short

# Every fuzz target (parsers, Sanitize, Fit/Width, the JSON escaping) for
# FUZZTIME each, after its seeds and testdata/fuzz corpus ran as plain
# tests above. A failure leaves its input under testdata/fuzz/: commit it.
FUZZTIME ?= 2s
fuzz-short:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
	    if ! out=$$($(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1); then \
	      case "$$out" in \
	      *"Failing input written"*|*"panic"*) echo "$$out"; exit 1;; \
	      *"context deadline exceeded"*) echo "  (the fuzzer's own deadline ran out while it minimized: not a failure)";; \
	      *) echo "$$out"; exit 1;; \
	      esac; \
	    fi; \
	  done; \
	done

# Benchmarks, not timed tests: the per-process scan cost, whole-program CPU
# per second next to htop and btop (../shared/bench/overhead.sh), and the
# slowdown of a cached-read loop with the eBPF page-cache probes attached.
bench: bench-scan bench-overhead bench-ebpf

bench-scan:
	$(GO) test -run '^$$' -bench 'ProcessScan' -benchtime 20x -count 3 ./probes/

bench-overhead: build
	scripts/bench-overhead.sh

bench-ebpf:
	$(GO) test -run '^$$' -bench 'CachedRead' -benchtime 2s -count 3 ./probes/ebpf/

# Run-queue latency hooks on the ctxswitch demo: interleaved attached and
# detached runs per tier, medians (about 90 s).
bench-runqlat:
	$(GO) test -run '^$$' -bench 'RunQLatCSwitch' -benchtime 1x ./probes/ebpf/

clean:
	rm -rf bin
