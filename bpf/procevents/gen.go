// Package procevents holds the exec and exit ring-buffer programs
// (procevents.bpf.c) and their bpf2go output, committed so that building
// vitals needs no clang. Regenerate with `make generate`.
package procevents

//go:generate go tool bpf2go -target bpfel -output-stem procevents -type header -type exec_event -type exit_event -type pending_exit ProcEvents procevents.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
