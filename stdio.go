package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// stdoutClosedAtStart reports whether vitals was started with standard
// output closed. The Go runtime opens /dev/null read-write on a closed
// standard descriptor before main runs, so the JSON would vanish with exit
// status 0. A shell's >/dev/null opens it write-only; a daemon that points
// all three standard descriptors at /dev/null read-write (daemon(3)) chose
// to discard them, and is let be.
func stdoutClosedAtStart() bool {
	devNullRW := func(fd int) bool {
		var st, null unix.Stat_t
		if unix.Fstat(fd, &st) != nil || unix.Stat(os.DevNull, &null) != nil || st.Rdev != null.Rdev ||
			st.Mode&unix.S_IFMT != unix.S_IFCHR {
			return false
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		return err == nil && flags&unix.O_ACCMODE == unix.O_RDWR
	}
	if !devNullRW(1) {
		return false
	}
	return !devNullRW(0) || !devNullRW(2)
}
