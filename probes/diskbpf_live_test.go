package probes

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// diskFrame runs the disk probe's Collect and applies its part.
func diskFrame(t *testing.T, p *DiskProbe) *model.Disk {
	t.Helper()
	part, err := p.Collect(&Tick{Now: time.Now(), Frame: &model.Sample{}})
	if err != nil {
		t.Fatal(err)
	}
	if part == nil {
		return nil
	}
	var s model.Sample
	part(&s)
	return s.Disk
}

// TestDiskLatencyHistogramOnLoopDevice: a child issues a known number of
// O_DIRECT reads and writes to a loop device this test attached; in the
// disk probe's frame, that device's histograms count exactly those I/Os,
// read and write apart, every one of them (the threshold is 1 ns) is a
// slow_io event of the child on that device, and the feature names the
// tier. Tried on every tier that loads here.
func TestDiskLatencyHistogramOnLoopDevice(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	dev, _ := ebpftest.AttachLoop(t, 16<<20)
	name := filepath.Base(dev)
	time.Sleep(500 * time.Millisecond) // udev's and the partition scan's reads
	const writes, reads = 300, 200
	sess := ebpf.NewSession()
	for _, tier := range []string{ebpf.TierTpBTF, ebpf.TierRawTp, ebpf.TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			p, err := NewDiskProbe(DiskProbeConfig{EBPF: true, Session: sess, ForceTier: tier, SlowIO: time.Nanosecond})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if f := p.Features()[0]; f.Tier != tier {
				t.Fatalf("feature %s", f)
			}
			diskFrame(t, p) // baseline
			if d := diskFrame(t, p); d == nil || d.Tier.Tier != tier {
				t.Fatalf("second frame: %+v", d)
			}
			p.EventSources()[0].Drain(nil)
			pid := ebpftest.Run(t, "dio:"+dev+":"+strconv.Itoa(writes)+":"+strconv.Itoa(reads))
			d := diskFrame(t, p)
			ours := d.Device(name)
			if ours == nil {
				t.Fatalf("%s not in the frame", name)
			}
			h := ours.LatencyHist
			if h == nil {
				t.Fatalf("%s: no histogram: %s", name, ours.LatencyReason)
			}
			t.Logf("%s on %s: read %d (issued %d, mean %v µs, p99 %v), write %d (issued %d, mean %v µs)", tier, name,
				h.Read.IOs, reads, h.Read.MeanUs, h.Read.P99Us, h.Write.IOs, writes, h.Write.MeanUs)
			if h.Read.IOs != reads || h.Write.IOs != writes {
				t.Errorf("histogram: read %d write %d, the child issued %d and %d", h.Read.IOs, h.Write.IOs, reads, writes)
			}
			if h.Read.SlowIOs != reads || h.Write.SlowIOs != writes {
				t.Errorf("slow counts: read %d write %d at a 1 ns threshold", h.Read.SlowIOs, h.Write.SlowIOs)
			}
			if !h.Read.MeanUs.OK || h.Read.MeanUs.V <= 0 || !h.Read.P99Us.OK || h.Read.P99Us.V < h.Read.MeanUs.V/2 {
				t.Errorf("read mean %v p99 %v", h.Read.MeanUs, h.Read.P99Us)
			}
			var got [2]int
			for _, ev := range p.EventSources()[0].Drain(nil) {
				s, ok := ev.Data.(model.SlowIOData)
				if ev.Kind != model.EventSlowIO || !ok {
					t.Fatalf("event %+v", ev)
				}
				if ev.PID != pid || s.Device != name {
					continue
				}
				if s.Bytes != ebpftest.DIOBlock || s.LatencyMS <= 0 {
					t.Errorf("slow I/O %+v", s)
				}
				if s.Op == "R" {
					got[0]++
				} else {
					got[1]++
				}
			}
			if got[0] != reads || got[1] != writes {
				t.Errorf("slow_io events of the child on %s: read %d write %d, want %d %d", name, got[0], got[1], reads, writes)
			}
			if loss := p.EventSources()[0].Loss(); loss.KernelDropped+loss.QueueDropped > 0 {
				// 500 events fit the ring and the queue: a loss is a bug.
				t.Errorf("loss %+v", loss)
			}
			if len(d.SlowIOs) != model.MaxSlowIOs || d.SlowIOs[0].LatencyMS < d.SlowIOs[len(d.SlowIOs)-1].LatencyMS {
				t.Errorf("slowest recent: %d, want %d slowest first", len(d.SlowIOs), model.MaxSlowIOs)
			}
		})
	}
}

// TestDiskNoEBPFSaysWhy: a copied tree and a forced procfs tier leave the
// histograms null with the reason in the feature.
func TestDiskNoEBPFSaysWhy(t *testing.T) {
	for _, cfg := range []DiskProbeConfig{
		{EBPF: true, CopiedTree: true},
		{EBPF: true, ForceTier: model.TierProcfs},
		{EBPF: true, DeferBPF: true},
	} {
		p, err := NewDiskProbe(cfg)
		if err != nil {
			t.Fatal(err)
		}
		f := p.Features()[0]
		if f.Tier != model.TierProcfs || f.Reason == "" || f.Name != "disk" {
			t.Errorf("%+v: feature %s", cfg, f)
		}
		diskFrame(t, p)
		d := diskFrame(t, p)
		for _, dev := range d.Devices {
			if dev.LatencyHist != nil {
				t.Errorf("%+v: %s has a histogram", cfg, dev.Name)
			}
		}
		if d.Tier.Reason != f.Reason || d.SlowIOs != nil || d.SlowIOLoss != nil {
			t.Errorf("%+v: disk part tier %s, slow %v loss %v", cfg, d.Tier, d.SlowIOs, d.SlowIOLoss)
		}
		p.Close()
	}
}

// TestDiskPerProcessAttributionOnLoopDevice: a child this test starts
// does a known amount of O_DIRECT I/O on a loop device the test attached;
// joined into the process table by ProcKey, its disk_* figures are that
// volume (and /proc/PID/io's read_bytes, an independent count, agrees),
// with latency, on every tier.
func TestDiskPerProcessAttributionOnLoopDevice(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	dev, _ := ebpftest.AttachLoop(t, 16<<20)
	time.Sleep(500 * time.Millisecond)
	const writes, reads = 400, 600
	sess := ebpf.NewSession()
	for _, tier := range []string{ebpf.TierTpBTF, ebpf.TierRawTp, ebpf.TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			p, err := NewDiskProbe(DiskProbeConfig{EBPF: true, Session: sess, ForceTier: tier})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			diskFrame(t, p)
			diskFrame(t, p)
			c := ebpftest.Start(t, "dio:"+dev+":"+strconv.Itoa(writes)+":"+strconv.Itoa(reads))
			c.Done(t)
			start := ebpftest.StartTicks(t, c.PID)
			procRead := procIOField(t, c.PID, "read_bytes")
			d := diskFrame(t, p)
			c.Release(t)
			window := p.window
			if d.PerProcess == nil {
				t.Fatal("no per-process part")
			}
			want := "submitter"
			if tier == ebpf.TierTracepoint {
				want = "issuer"
			}
			if d.PerProcess.Attribution != want || d.PerProcess.UnattributedIOs != 0 {
				t.Errorf("attribution %q, unattributed %d", d.PerProcess.Attribution, d.PerProcess.UnattributedIOs)
			}
			var pr model.Process
			pr.PID, pr.StartTicks = c.PID, start
			other := pr
			other.StartTicks++ // the same pid, another process: nothing
			s := model.Sample{Disk: d, Processes: []model.Process{pr, other}}
			model.JoinFrame(&s)
			got := s.Processes[0].ProcessDisk
			rd, wr, ios := got.DiskReadBytesPerS.V*window, got.DiskWriteBytesPerS.V*window, got.DiskIOsPerS.V*window
			t.Logf("%s: child %d read %.0f B (issued %d, /proc/PID/io read_bytes %d), wrote %.0f B (issued %d), %.0f I/Os, latency mean %v max %v µs",
				tier, c.PID, rd, reads*ebpftest.DIOBlock, procRead, wr, writes*ebpftest.DIOBlock, ios, got.DiskLatencyMeanUs, got.DiskLatencyMaxUs)
			near := func(got, want float64) bool { return math.Abs(got-want) <= 0.02*want }
			if got.DiskSource != model.DiskSourceEBPF || !near(rd, reads*ebpftest.DIOBlock) || !near(wr, writes*ebpftest.DIOBlock) || !near(ios, reads+writes) {
				t.Errorf("child's disk figures %+v over %.3f s", got, window)
			}
			if !near(rd, float64(procRead)) {
				t.Errorf("read %.0f B, /proc/%d/io read_bytes %d", rd, c.PID, procRead)
			}
			if !got.DiskLatencyMeanUs.OK || got.DiskLatencyMeanUs.V <= 0 || got.DiskLatencyMaxUs.V < got.DiskLatencyMeanUs.V {
				t.Errorf("latency mean %v max %v", got.DiskLatencyMeanUs, got.DiskLatencyMaxUs)
			}
			if o := s.Processes[1].ProcessDisk; o.DiskReadBytesPerS != model.Known(0) || o.DiskLatencyMeanUs.OK {
				t.Errorf("a reused pid inherited the child's I/O: %+v", o)
			}
		})
	}
}

// procIOField reads one field of /proc/PID/io.
func procIOField(t *testing.T, pid int32, field string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/io")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+": "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/io has no %s", pid, field)
	return 0
}

// TestDiskDeferredLoad: made with DeferBPF the probe starts on procfs with
// that reason, LoadBPF switches it over at the next Collect, whose
// interval (part of which ran before the attach) has no histogram; the
// one after has.
func TestDiskDeferredLoad(t *testing.T) {
	ebpftest.RequirePrivileged(t, ebpf.Privileged())
	p, err := NewDiskProbe(DiskProbeConfig{EBPF: true, DeferBPF: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	diskFrame(t, p)
	if d := diskFrame(t, p); d.Tier.Tier != model.TierProcfs || d.Tier.Reason != "loading after the first frame" || d.PerProcess != nil {
		t.Fatalf("before LoadBPF: %s", d.Tier)
	}
	if err := p.LoadBPF(ebpf.NewSession()); err != nil {
		t.Fatal(err)
	}
	if f := p.Features()[0]; !f.EBPF() {
		t.Fatalf("after LoadBPF: %s", f)
	}
	d := diskFrame(t, p)
	for _, dev := range d.Devices {
		if dev.LatencyHist != nil {
			t.Errorf("%s: a histogram over an interval the programs saw only part of", dev.Name)
		}
	}
	d = diskFrame(t, p)
	n := 0
	for _, dev := range d.Devices {
		if dev.LatencyHist != nil {
			n++
		}
	}
	if n == 0 || d.PerProcess == nil || !d.Tier.EBPF() {
		t.Errorf("second frame after LoadBPF: %d histograms, per-process %v, tier %s", n, d.PerProcess != nil, d.Tier)
	}
}
