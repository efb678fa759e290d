//go:build !unix

package proctable

// Linux numbers, so the package builds (and its tests run) everywhere; the
// KillFunc on such a platform reports that signals are unsupported.
const (
	sigTERM = 15
	sigINT  = 2
	sigHUP  = 1
	sigKILL = 9
	sigQUIT = 3
	sigSTOP = 19
	sigCONT = 18
	sigUSR1 = 10
	sigUSR2 = 12
)
