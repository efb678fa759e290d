package probes

import (
	"path/filepath"
	"syscall"
)

// delayacct is whether the kernel accounts tasks' block-I/O delay
// (delayacct_blkio_ticks, field 42 of /proc/PID/stat). Since Linux 5.14
// that needs kernel.task_delayacct = 1 (off by default); otherwise the
// field reads 0 whatever the waits, and 0 would be a lie: iodelay is then
// unknown, with reason.
type delayacct struct {
	path   string
	fd     int  // kept open: re-read with pread, no allocation
	absent bool // could not be opened: a kernel without it
	on     bool
	reason string
	buf    [16]byte
}

// Reasons iodelay is unknown.
const (
	delayacctOff     = "kernel.task_delayacct is 0: the kernel does not account block-I/O delay (sysctl -w kernel.task_delayacct=1 turns it on; time waited before that is not counted)"
	delayacctUnknown = "cannot tell whether the kernel accounts block-I/O delay: no /proc/sys/kernel/task_delayacct (a kernel before 5.14, or without CONFIG_TASK_DELAY_ACCT)"
)

func newDelayacct(procRoot string) *delayacct {
	return &delayacct{path: filepath.Join(procRoot, "sys/kernel/task_delayacct"), fd: -1}
}

// refresh re-reads the sysctl (one pread of a kept fd): it can be
// switched at any time. A sysctl that cannot be opened is not looked for
// again: the kernel has none.
func (d *delayacct) refresh() {
	if d.absent {
		d.on, d.reason = false, delayacctUnknown
		return
	}
	if d.fd < 0 {
		fd, err := syscall.Open(d.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			d.absent = true
			d.on, d.reason = false, delayacctUnknown
			return
		}
		d.fd = fd
	}
	n, err := syscall.Pread(d.fd, d.buf[:], 0)
	if err != nil {
		d.close()
	}
	d.on, d.reason = parseDelayacct(d.buf[:max(n, 0)], err == nil)
}

func (d *delayacct) close() {
	if d.fd >= 0 {
		syscall.Close(d.fd)
		d.fd = -1
	}
}

// parseDelayacct reads the sysctl's text ("0\n" or "1\n").
func parseDelayacct(b []byte, ok bool) (bool, string) {
	b = trimSpace(b)
	switch {
	case !ok || len(b) == 0:
		return false, delayacctUnknown
	}
	v, isNum := parseUint(b)
	switch {
	case !isNum:
		return false, delayacctUnknown
	case v == 0:
		return false, delayacctOff
	}
	return true, ""
}
