//go:build linux

// Command memhog is a training load for vitals' Memory tab: it allocates
// anonymous memory at a steady rate up to a cap and then holds it, the way a
// leaking program grows. Every page is written as soon as it is mapped, so
// the memory is really used (RSS grows, not only the virtual size). It maps
// the memory with mmap(2) itself, outside the Go heap, so the garbage
// collector neither frees nor doubles it.
//
// The demo scripts run it under the names demo-leak (mem-leak.sh) and
// demo-reclaim (reclaim.sh, inside a memory cgroup whose limit it outgrows,
// so the cgroup reclaims and finally OOM-kills it).
//
// It stops by itself after -d (at most 10 minutes) and also when its parent
// dies, so a killed demo script leaves nothing behind.
//
// Usage: memhog [-rate 20] [-max 1024] [-d 60s] [-every 0]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	maxDuration = 10 * time.Minute
	mib         = 1 << 20
	tick        = 100 * time.Millisecond
)

func main() {
	rate := flag.Float64("rate", 20, "growth rate in MiB per second (0.1 to 4096)")
	maxMiB := flag.Int("max", 1024, "cap in MiB (1 to 65536): stop growing there and hold")
	duration := flag.Duration("d", 60*time.Second, "how long to run, growing then holding (at most 10m)")
	every := flag.Duration("every", 0, "print the RSS this often (0: only at the end)")
	flag.Parse()

	name := filepath.Base(os.Args[0])
	if err := run(name, *rate, *maxMiB, *duration, *every); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
}

func run(name string, rate float64, maxMiB int, duration, every time.Duration) error {
	switch {
	case rate < 0.1 || rate > 4096:
		return fmt.Errorf("-rate %g: want 0.1 to 4096 MiB/s", rate)
	case maxMiB < 1 || maxMiB > 65536:
		return fmt.Errorf("-max %d: want 1 to 65536 MiB", maxMiB)
	case duration <= 0 || duration > maxDuration:
		return fmt.Errorf("-d %s: want a duration above 0 and at most %s", duration, maxDuration)
	case every < 0:
		return fmt.Errorf("-every %s: want 0 or more", every)
	}

	// Die with the demo script even if it is SIGKILLed and cannot clean up.
	// The main goroutine runs on the main thread at this point, which is the
	// one the setting belongs to.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		return fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", errno)
	}
	if os.Getppid() == 1 {
		return fmt.Errorf("parent already exited")
	}

	page := os.Getpagesize()
	limit := int64(maxMiB) * mib
	var (
		allocated int64
		chunks    [][]byte // kept so the memory stays reachable and mapped
	)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	start := time.Now()
	fmt.Printf("%s: pid %d, growing by %g MiB/s up to %d MiB, for %s\n", name, os.Getpid(), rate, maxMiB, duration)

	deadline := time.After(duration)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	var report <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		report = t.C
	}
	var reachedAt time.Duration
	var reason string
loop:
	for {
		select {
		case <-ticker.C:
			if allocated >= limit {
				continue
			}
			// Grow to where the rate says we should be by now, in whole pages.
			target := min(int64(rate*mib*time.Since(start).Seconds()), limit)
			n := (target - allocated) / int64(page) * int64(page)
			if n <= 0 {
				continue
			}
			b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
			if err != nil {
				return fmt.Errorf("mmap %d bytes after %d MiB: %w", n, allocated/mib, err)
			}
			// Write every page: an untouched mapping costs no RAM.
			for i := 0; i < len(b); i += page {
				b[i] = byte(i/page) | 1
			}
			chunks = append(chunks, b)
			allocated += n
			if allocated >= limit {
				reachedAt = time.Since(start)
				fmt.Printf("%s: reached the cap, %d MiB, after %.1f s; holding it\n", name, maxMiB, reachedAt.Seconds())
			}
		case <-report:
			fmt.Printf("%s: %.0f s: allocated %d MiB, %s\n", name, time.Since(start).Seconds(), allocated/mib, rssLine())
		case <-deadline:
			reason = "time is up"
			break loop
		case s := <-stop:
			reason = "got " + s.String()
			break loop
		}
	}
	elapsed := time.Since(start)
	growth := elapsed
	if reachedAt > 0 {
		growth = reachedAt
	}
	fmt.Printf("%s: %s after %.1f s: allocated and touched %d MiB in %d mappings (%.1f MiB/s while growing); %s\n",
		name, reason, elapsed.Seconds(), allocated/mib, len(chunks), float64(allocated)/mib/growth.Seconds(), rssLine())
	return nil
}

// rssLine reads VmRSS and VmHWM (peak RSS) from /proc/self/status: what the
// kernel charges this process, to compare with vitals' RSS column.
func rssLine() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "RSS unknown: " + err.Error()
	}
	defer f.Close()
	var rss, hwm int64 = -1, -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb
		case "VmHWM":
			hwm = kb
		}
	}
	return fmt.Sprintf("VmRSS %d MiB (peak %d MiB)", rss/1024, hwm/1024)
}
