//go:build unix

package proctable

import "syscall"

const (
	sigTERM = int(syscall.SIGTERM)
	sigINT  = int(syscall.SIGINT)
	sigHUP  = int(syscall.SIGHUP)
	sigKILL = int(syscall.SIGKILL)
	sigQUIT = int(syscall.SIGQUIT)
	sigSTOP = int(syscall.SIGSTOP)
	sigCONT = int(syscall.SIGCONT)
	sigUSR1 = int(syscall.SIGUSR1)
	sigUSR2 = int(syscall.SIGUSR2)
)
