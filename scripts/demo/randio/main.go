//go:build linux

// Command randio is a training load for vitals' Disk tab: random O_DIRECT
// reads and writes of -bs bytes over a file or block device, one at a time
// per worker, so every request reaches the device (no page cache, no
// readahead, no merging) and the device's latency is what the worker waits
// for. It prints what it did at the end, for checking the tab against.
//
// The demo scripts run it as demo-randio (disk-randio.sh, on a loop device)
// and demo-slowio (slow-disk.sh, in a throttled blkio cgroup). It stops by
// itself after -d (at most 10 minutes) and when its parent dies.
//
// Usage: randio -f PATH [-bs 4096] [-w 30] [-j 1] [-d 60s]
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

const maxDuration = 10 * time.Minute

func main() {
	path := flag.String("f", "", "file or block device to read and write (its contents are overwritten)")
	bs := flag.Int("bs", 4096, "bytes per I/O: a multiple of 4096, at most 1 MiB")
	writePct := flag.Int("w", 30, "percent of the I/Os that are writes (0 to 100)")
	jobs := flag.Int("j", 1, "workers, each with one I/O in flight (1 to 64)")
	duration := flag.Duration("d", 60*time.Second, "how long to run (at most 10m)")
	flag.Parse()
	name := filepath.Base(os.Args[0])
	if err := run(*path, *bs, *writePct, *jobs, *duration); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
}

func run(path string, bs, writePct, jobs int, d time.Duration) error {
	switch {
	case path == "":
		return fmt.Errorf("-f PATH is needed")
	case bs < 4096 || bs%4096 != 0 || bs > 1<<20:
		return fmt.Errorf("-bs %d: want a multiple of 4096 up to 1 MiB", bs)
	case writePct < 0 || writePct > 100:
		return fmt.Errorf("-w %d: want 0 to 100", writePct)
	case jobs < 1 || jobs > 64:
		return fmt.Errorf("-j %d: want 1 to 64", jobs)
	case d <= 0 || d > maxDuration:
		return fmt.Errorf("-d %v: want up to %v", d, maxDuration)
	}
	// Stop when the demo script dies, whatever killed it.
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); e != 0 {
		return fmt.Errorf("prctl: %v", e)
	}
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_DIRECT|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s with O_DIRECT: %w", path, err)
	}
	defer syscall.Close(fd)
	size, err := syscall.Seek(fd, 0, 2)
	if err != nil || size < int64(bs) {
		return fmt.Errorf("%s: size %d (%v): want at least one block", path, size, err)
	}
	blocks := size / int64(bs)
	var reads, writes atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	errc := make(chan error, jobs)
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// O_DIRECT needs an aligned buffer: an anonymous mapping is.
			buf, err := syscall.Mmap(-1, 0, bs, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
			if err != nil {
				errc <- err
				return
			}
			defer syscall.Munmap(buf)
			for time.Now().Before(end) {
				off := rand.Int64N(blocks) * int64(bs)
				if rand.IntN(100) < writePct {
					*(*uint64)(unsafe.Pointer(&buf[0])) = uint64(off)
					if _, err := syscall.Pwrite(fd, buf, off); err != nil {
						errc <- err
						return
					}
					writes.Add(1)
				} else {
					if _, err := syscall.Pread(fd, buf, off); err != nil {
						errc <- err
						return
					}
					reads.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return err
	}
	secs := d.Seconds()
	fmt.Printf("randio: %d reads and %d writes of %d bytes in %.0f s: %.0f r/s, %.0f w/s\n",
		reads.Load(), writes.Load(), bs, secs, float64(reads.Load())/secs, float64(writes.Load())/secs)
	return nil
}
