// Package runqlat holds the run-queue latency programs (runqlat.bpf.c) and
// their bpf2go output, committed so that building vitals needs no clang.
// Regenerate with `make generate`.
package runqlat

//go:generate go tool bpf2go -target bpfel -output-stem runqlat -type hist -type wait_rec RunQLat runqlat.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
