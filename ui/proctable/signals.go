package proctable

// signal is one entry of the kill menu.
type signal struct {
	name string
	num  int
	desc string
}

// signals in menu order; SIGTERM first and preselected, as htop. The
// numbers come from the platform (signals_unix.go), since they differ
// between architectures for STOP/CONT/USR1/USR2.
var signals = []signal{
	{"SIGTERM", sigTERM, "ask to exit"},
	{"SIGINT", sigINT, "interrupt, as Ctrl-C"},
	{"SIGHUP", sigHUP, "hang up; daemons reload"},
	{"SIGKILL", sigKILL, "kill at once, cannot be caught"},
	{"SIGQUIT", sigQUIT, "quit with core dump"},
	{"SIGSTOP", sigSTOP, "pause, cannot be caught"},
	{"SIGCONT", sigCONT, "resume a stopped process"},
	{"SIGUSR1", sigUSR1, "user-defined 1"},
	{"SIGUSR2", sigUSR2, "user-defined 2"},
}
