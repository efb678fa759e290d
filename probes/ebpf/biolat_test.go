package ebpf

import (
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

const dioBlock = ebpftest.DIOBlock

// TestBioLatHistogramCountsLoopDeviceIOs: a child issues a known number of
// O_DIRECT reads and writes to a loop device the test attached; every tier
// that loads here counts exactly that many in the device's histograms,
// read and write apart.
func TestBioLatHistogramCountsLoopDeviceIOs(t *testing.T) {
	requirePrivileged(t)
	dev, devt := ebpftest.AttachLoop(t, 16<<20)
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
			if _, err := b.DrainProcs(nil); err != nil {
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
			procs, err := b.DrainProcs(nil)
			if err != nil {
				t.Fatal(err)
			}
			var mine *BioLatProc
			for i := range procs {
				if procs[i].PID == pid {
					mine = &procs[i]
				}
			}
			switch {
			case mine == nil:
				t.Errorf("no per-process row for the child %d among %d", pid, len(procs))
			case mine.ReadIOs != reads || mine.WriteIOs != writes || mine.ReadBytes != reads*dioBlock || mine.WriteBytes != writes*dioBlock:
				t.Errorf("child's row: %d reads %d bytes, %d writes %d bytes; issued %d and %d of %d bytes",
					mine.ReadIOs, mine.ReadBytes, mine.WriteIOs, mine.WriteBytes, reads, writes, dioBlock)
			case mine.LatNs == 0 || mine.LatMaxNs == 0 || mine.StartTicks == 0 || mine.Flags&BioLatKworker != 0:
				t.Errorf("child's row: latency %d ns, max %d, start %d ticks, flags %#x", mine.LatNs, mine.LatMaxNs, mine.StartTicks, mine.Flags)
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
