package ebpf

import (
	"fmt"
	"os"
	"syscall"
)

// initPIDNamespaceIno is PROC_PID_INIT_INO, the inode number the kernel
// gives the initial PID namespace (include/linux/proc_ns.h).
const initPIDNamespaceIno = 0xEFFFFFFC

// pidNamespaceVar is the BPF objects' global (bpf/common.h) that names the
// namespace their pids are translated into; 0 means the initial one.
const pidNamespaceVar = "vitals_pidns_ino"

// PIDNamespace is the inode number of the PID namespace whose numbers the
// /proc under procRoot shows: that of its pid 1 (the namespace's init, or
// the host's). vitals joins eBPF's pids to that /proc, so that is the
// namespace to translate into — not necessarily vitals' own (a container
// can see the host's /proc). It falls back to vitals' own namespace when
// pid 1 cannot be read.
func PIDNamespace(procRoot string) (uint32, error) {
	var firstErr error
	for _, p := range []string{procRoot + "/1/ns/pid", procRoot + "/self/ns/pid"} {
		fi, err := os.Stat(p)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return 0, fmt.Errorf("stat %s: no inode", p)
		}
		return uint32(st.Ino), nil
	}
	return 0, fmt.Errorf("PID namespace: %w", firstErr)
}

// pidNamespaceConstant is what the BPF objects get: 0 in the initial
// namespace (their tgids are already /proc's), the inode otherwise.
func pidNamespaceConstant(ino uint32) uint32 {
	if ino == initPIDNamespaceIno {
		return 0
	}
	return ino
}
