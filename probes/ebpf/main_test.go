package ebpf

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a workload child: "ACTION:ARGS". A child of
// our own has a pid we know, so its counts can be picked out of the
// per-process map.
const childEnv = "VITALS_EBPF_TEST_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if err := runChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(spec string) error {
	action, args, _ := strings.Cut(spec, ":")
	switch action {
	case "write": // write:PATH:BYTES — write, fsync, drop from the cache
		path, n, _ := strings.Cut(args, ":")
		size, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		return writeFile(path, size)
	case "read": // read:PATH:BUFSIZE — read to the end
		path, n, _ := strings.Cut(args, ":")
		bufSize, err := strconv.Atoi(n)
		if err != nil {
			return err
		}
		return readFile(path, bufSize)
	case "open": // open — try to open cachestat, print the report reason
		_, rep, err := OpenCacheStat(CacheStatOptions{})
		if err == nil {
			return fmt.Errorf("loaded without privileges")
		}
		fmt.Print(rep.Reason)
		return nil
	}
	return fmt.Errorf("unknown child action %q", action)
}

func writeFile(path string, size int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for left := size; left > 0; {
		n := min(left, len(buf))
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		left -= n
	}
	return dropCache(f)
}

// dropCache writes back and evicts a file's pages, so the next read is cold.
func dropCache(f *os.File) error {
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

func readFile(path string, bufSize int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, bufSize)
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// requirePrivileged skips without root, except in CI, where the eBPF tests
// must run: a skip there would hide a broken probe.
func requirePrivileged(t *testing.T) {
	t.Helper()
	if Privileged() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but the test is not privileged: eBPF tests need root or CAP_BPF+CAP_PERFMON")
	}
	t.Skip("needs root or CAP_BPF+CAP_PERFMON")
}
