// Package nettop holds the per-process network bytes and TCP retransmit and
// reset BPF programs (nettop.bpf.c) and their bpf2go output, committed so
// that building vitals needs no clang. Regenerate with `make generate`.
package nettop

//go:generate go tool bpf2go -target bpfel -output-stem nettop -type proc_key -type proc_net -type sk_owner -type drops NetTop nettop.bpf.c -- -O2 -g -Wall -Werror -D__TARGET_ARCH_x86
