//go:build linux

// Command cswitch is a training load for vitals' CPU tab: a context-switch
// storm made by many threads of one process. Threads are paired; each pair
// hands a one-byte token back and forth over two blocking pipes, so every
// hand-off puts one thread to sleep in read(2) and wakes its partner — one
// voluntary context switch per hand-off. With more runnable threads than
// CPUs some switches are also involuntary (preemption); -spin adds busy work
// per hand-off to make more of them so.
//
// It stops by itself after -d (at most 10 minutes) and also when its parent
// dies, so a killed demo script leaves nothing behind.
//
// Usage: cswitch [-threads 32] [-d 60s] [-spin 0]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

const maxDuration = 10 * time.Minute

func main() {
	threads := flag.Int("threads", 32, "number of threads (even, 2..1024); each pair ping-pongs a token")
	duration := flag.Duration("d", 60*time.Second, "how long to run (at most 10m)")
	spin := flag.Int("spin", 0, "busy-loop iterations per hand-off (more preemption, fewer hand-offs)")
	flag.Parse()

	if err := run(*threads, *duration, *spin); err != nil {
		fmt.Fprintln(os.Stderr, "cswitch:", err)
		os.Exit(2)
	}
}

func run(threads int, duration time.Duration, spin int) error {
	switch {
	case threads < 2 || threads > 1024 || threads%2 != 0:
		return fmt.Errorf("-threads %d: want an even number from 2 to 1024", threads)
	case duration <= 0 || duration > maxDuration:
		return fmt.Errorf("-d %s: want a duration above 0 and at most %s", duration, maxDuration)
	case spin < 0:
		return fmt.Errorf("-spin %d: want 0 or more", spin)
	}

	// Die with the demo script even if it is SIGKILLed and cannot clean up.
	// The main goroutine runs on the main thread here, which is the one the
	// setting belongs to.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", errno)
	}
	if os.Getppid() == 1 {
		return fmt.Errorf("parent already exited")
	}

	// One P per locked thread, so a thread coming back from read(2) finds
	// its P and does not queue behind the Go scheduler: the switches seen
	// are the kernel's hand-offs, not the runtime's.
	runtime.GOMAXPROCS(threads + 2)

	var handoffs atomic.Uint64
	errs := make(chan error, threads)
	for i := 0; i < threads/2; i++ {
		var ping, pong [2]int
		if err := syscall.Pipe2(ping[:], syscall.O_CLOEXEC); err != nil {
			return fmt.Errorf("pipe: %w", err)
		}
		if err := syscall.Pipe2(pong[:], syscall.O_CLOEXEC); err != nil {
			return fmt.Errorf("pipe: %w", err)
		}
		// The serving side waits first; the starting side sends the first
		// token.
		go bounce(pong[0], ping[1], false, spin, &handoffs, errs)
		go bounce(ping[0], pong[1], true, spin, &handoffs, errs)
	}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	start := time.Now()
	fmt.Printf("cswitch: pid %d, %d threads in %d ping-pong pairs, for %s\n", os.Getpid(), threads, threads/2, duration)

	var reason string
	select {
	case <-time.After(duration):
		reason = "time is up"
	case s := <-stop:
		reason = "got " + s.String()
	case err := <-errs:
		return err
	}
	elapsed := time.Since(start).Seconds()

	// getrusage sums every thread, unlike /proc/PID/status, which counts
	// the main thread only: an independent total to check vitals against.
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return fmt.Errorf("getrusage: %w", err)
	}
	fmt.Printf("cswitch: %s after %.1f s: %.0f hand-offs/s; this process: %.0f voluntary + %.0f involuntary switches/s (getrusage, all threads)\n",
		reason, elapsed, float64(handoffs.Load())/elapsed, float64(ru.Nvcsw)/elapsed, float64(ru.Nivcsw)/elapsed)
	return nil
}

// bounce runs on its own OS thread: read a token, optionally burn some CPU,
// pass it on. Blocking read(2) on a pipe sleeps in the kernel until the
// partner writes, so each hand-off is a real thread switch.
func bounce(in, out int, starter bool, spin int, handoffs *atomic.Uint64, errs chan<- error) {
	runtime.LockOSThread()
	buf := []byte{'x'}
	if starter {
		if err := retryEINTR(syscall.Write, out, buf); err != nil {
			errs <- fmt.Errorf("write pipe: %w", err)
			return
		}
	}
	var acc uint64
	for {
		if err := retryEINTR(syscall.Read, in, buf); err != nil {
			errs <- fmt.Errorf("read pipe: %w", err)
			return
		}
		acc = busyWork(acc, spin)
		buf[0] = byte(acc) | 1 // use the result so the work is not optimised away
		handoffs.Add(1)
		if err := retryEINTR(syscall.Write, out, buf); err != nil {
			errs <- fmt.Errorf("write pipe: %w", err)
			return
		}
	}
}

func retryEINTR(op func(int, []byte) (int, error), fd int, buf []byte) error {
	for {
		_, err := op(fd, buf)
		if err != syscall.EINTR {
			return err
		}
	}
}

// busyWork is a linear congruential step n times: pure user-mode CPU.
func busyWork(x uint64, n int) uint64 {
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}
