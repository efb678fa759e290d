// Package taskiter holds the task-iterator program (taskiter.bpf.c) that
// dumps every task's counters for the process scanner in one pass, and its
// bpf2go output, committed so that building vitals needs no clang.
// Regenerate with `make generate`.
package taskiter

//go:generate go tool bpf2go -target bpfel -output-stem taskiter -type task_rec TaskIter taskiter.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
