// Package biolat holds the block I/O latency BPF programs (biolat.bpf.c):
// log2 histograms per device, read and write apart, and slow I/Os through
// a ring buffer; with their bpf2go output, committed so that building
// vitals needs no clang. Regenerate with `make generate`.
package biolat

//go:generate go tool bpf2go -target bpfel -output-stem biolat -type hist_key -type hist -type config -type drops -type proc_key -type proc_io BioLat biolat.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
