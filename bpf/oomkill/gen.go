// Package oomkill holds the OOM-kill ring-buffer programs (oomkill.bpf.c)
// and their bpf2go output, committed so that building vitals needs no
// clang. Regenerate with `make generate`.
package oomkill

//go:generate go tool bpf2go -target bpfel -output-stem oomkill -type oom_event OOMKill oomkill.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
