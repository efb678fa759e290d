package ebpftest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// DIOBlock is the size of each I/O of the dio action.
const DIOBlock = 4096

// DirectIO is the dio action (DEV:WRITES:READS): writes then reads of
// DIOBlock bytes with O_DIRECT, one at a time, so each is exactly one
// request (no page cache, no merging, no readahead).
func DirectIO(args string) error {
	parts := strings.Split(args, ":")
	if len(parts) != 3 {
		return fmt.Errorf("dio wants DEV:WRITES:READS, got %q", args)
	}
	writes, err1 := strconv.Atoi(parts[1])
	reads, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil {
		return fmt.Errorf("dio: bad counts %q", args)
	}
	fd, err := unix.Open(parts[0], unix.O_RDWR|unix.O_DIRECT, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	buf, err := unix.Mmap(-1, 0, DIOBlock, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err
	}
	defer unix.Munmap(buf)
	for i := range writes {
		buf[0] = byte(i)
		if _, err := unix.Pwrite(fd, buf, int64(i)*DIOBlock); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
	}
	for i := range reads {
		if _, err := unix.Pread(fd, buf, int64(i)*DIOBlock); err != nil {
			return fmt.Errorf("read %d: %w", i, err)
		}
	}
	return nil
}

// AttachLoop attaches a loop device to a new sparse file of size bytes on
// a disk-backed filesystem, detached at the end of the test, and returns
// its path and dev_t (major << 20 | minor, the kernel's encoding).
func AttachLoop(t testing.TB, size int64) (string, uint32) {
	t.Helper()
	losetup, err := exec.LookPath("losetup")
	if err != nil {
		t.Fatalf("losetup: %v (the test needs util-linux)", err)
	}
	img := filepath.Join(WorkDir(t), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(losetup, "-f", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup -f --show: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command(losetup, "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err != nil {
		t.Fatal(err)
	}
	return dev, unix.Major(st.Rdev)<<20 | unix.Minor(st.Rdev)
}
