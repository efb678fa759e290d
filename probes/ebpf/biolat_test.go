package ebpf

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

const dioBlock = 4096

// directIO is the child of TestBioLatHistogramCountsLoopDeviceIOs: writes
// then reads of dioBlock bytes with O_DIRECT, one at a time, so each is
// exactly one request (no page cache, no merging, no readahead).
func directIO(args string) error {
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
	buf, err := unix.Mmap(-1, 0, dioBlock, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return err
	}
	defer unix.Munmap(buf)
	for i := range writes {
		buf[0] = byte(i)
		if _, err := unix.Pwrite(fd, buf, int64(i)*dioBlock); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
	}
	for i := range reads {
		if _, err := unix.Pread(fd, buf, int64(i)*dioBlock); err != nil {
			return fmt.Errorf("read %d: %w", i, err)
		}
	}
	return nil
}

// attachLoop attaches a loop device to a new 16 MiB file and returns its
// path and dev_t (major << 20 | minor, the kernel's encoding).
func attachLoop(t *testing.T) (string, uint32) {
	t.Helper()
	losetup, err := exec.LookPath("losetup")
	if err != nil {
		t.Fatalf("losetup: %v (the test needs util-linux)", err)
	}
	img := filepath.Join(ebpftest.WorkDir(t), "disk.img")
	if err := os.WriteFile(img, make([]byte, 16<<20), 0o600); err != nil {
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

// TestBioLatHistogramCountsLoopDeviceIOs: a child issues a known number of
// O_DIRECT reads and writes to a loop device the test attached; every tier
// that loads here counts exactly that many in the device's histograms,
// read and write apart.
func TestBioLatHistogramCountsLoopDeviceIOs(t *testing.T) {
	requirePrivileged(t)
	dev, devt := attachLoop(t)
	// udev and the partition scan read a new device once; let them.
	time.Sleep(500 * time.Millisecond)
	const writes, reads = 300, 200
	sess := NewSession()
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			// Every I/O is "slow" at 1 ns: the ring buffer gets them all.
			b, rep, err := OpenBioLat(sess, LoadOptions{ForceTier: tier}, 1)
			if err != nil {
				t.Fatalf("%v\n%s", err, rep)
			}
			defer b.Close()
			if _, err := b.Drain(); err != nil { // baseline
				t.Fatal(err)
			}
			rd, err := ringbuf.NewReader(b.Ring())
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			pid := ebpftest.Run(t, "dio:"+dev+":"+strconv.Itoa(writes)+":"+strconv.Itoa(reads))
			hs, err := b.Drain()
			if err != nil {
				t.Fatal(err)
			}
			var got [2]uint64
			for _, h := range hs {
				if h.Dev != devt {
					continue
				}
				for _, c := range h.Counts {
					got[h.Op] += c
				}
				if h.TotalNs == 0 {
					t.Errorf("op %d: no latency summed", h.Op)
				}
			}
			var slow [2]int
			rd.SetDeadline(time.Now().Add(time.Second))
			for {
				rec, err := rd.Read()
				if err != nil {
					break
				}
				var e SlowIO
				if !DecodeSlowIO(rec.RawSample, &e) {
					t.Fatal("malformed slow-I/O record")
				}
				if e.Dev == devt && int32(e.PID) == pid && e.Bytes == dioBlock && e.Op <= BioLatWrite {
					slow[e.Op]++
				}
			}
			if slow[BioLatRead] != reads || slow[BioLatWrite] != writes {
				t.Errorf("slow-I/O events of the child on %s: read %d write %d, want %d %d", dev, slow[0], slow[1], reads, writes)
			}
			t.Logf("%s on %s: read %d (issued %d), write %d (issued %d)", tier, dev, got[BioLatRead], reads, got[BioLatWrite], writes)
			if got[BioLatRead] != reads || got[BioLatWrite] != writes {
				t.Errorf("histogram counts read %d write %d, the child issued %d and %d", got[BioLatRead], got[BioLatWrite], reads, writes)
			}
		})
	}
}
