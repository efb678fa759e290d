// Package cachestat holds the page-cache accounting BPF programs
// (cachestat.bpf.c) and their bpf2go output, committed so that building
// vitals needs no clang. Regenerate with `make generate`.
package cachestat

//go:generate go tool bpf2go -target bpfel -output-stem cachestat -type proc_key -type proc_counts -type drops -type thread_state CacheStat cachestat.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
