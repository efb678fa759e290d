package probes

import (
	"testing"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
)

// TestDiskPerProcessRows: rates over the window, mean latency per I/O,
// the kworker row apart (writeback is not the kworker's application I/O),
// and the I/Os the kernel map could not attribute in this interval only.
func TestDiskPerProcessRows(t *testing.T) {
	procs := []ebpf.BioLatProc{
		{PID: 10, StartTicks: 5, Comm: "small", ReadBytes: 4096, ReadIOs: 1, LatNs: 2000, LatMaxNs: 2000},
		{PID: 0, Flags: ebpf.BioLatKworker, Comm: "kworker/u8:1", WriteBytes: 8 << 20, WriteIOs: 64, LatNs: 64 * 500_000, LatMaxNs: 3_000_000},
		{PID: 11, StartTicks: 6, Comm: "big", ReadBytes: 1 << 20, WriteBytes: 1 << 20, ReadIOs: 10, WriteIOs: 6, LatNs: 16 * 100_000, LatMaxNs: 900_000},
	}
	pp := perProcess(procs, true, 2, ebpf.BioLatDrops{ProcIOs: 7, ProcBytes: 7 * 4096}, ebpf.BioLatDrops{ProcIOs: 4, ProcBytes: 4 * 4096})
	if pp.Attribution != "submitter" || pp.UnattributedIOs != 3 || pp.UnattributedBytes != 3*4096 {
		t.Errorf("%+v", pp)
	}
	if len(pp.Processes) != 2 || pp.Processes[0].PID != 11 || pp.Processes[1].PID != 10 {
		t.Fatalf("rows (busiest first, no kworker): %+v", pp.Processes)
	}
	big := pp.Processes[0]
	// Hand-computed over 2 s: 512 KiB/s each way, 5 and 3 I/Os/s, mean 100 µs.
	if big.ReadBytesPerS != 512<<10 || big.WriteBytesPerS != 512<<10 || big.ReadIOsPerS != 5 || big.WriteIOsPerS != 3 || big.LatencyMeanUs != 100 || big.LatencyMaxUs != 900 {
		t.Errorf("big: %+v", big)
	}
	kw := pp.KernelWorkers
	if kw == nil || !kw.Writeback || kw.WriteBytesPerS != 4<<20 || kw.LatencyMeanUs != 500 || kw.PID != 0 {
		t.Errorf("kernel workers: %+v", kw)
	}
	// The issuer tier says so; a reset counter is no huge number.
	if pp := perProcess(nil, false, 1, ebpf.BioLatDrops{}, ebpf.BioLatDrops{ProcIOs: 9}); pp.Attribution != "issuer" || pp.UnattributedIOs != 0 || pp.KernelWorkers != nil {
		t.Errorf("%+v", pp)
	}
	// Joined: the kworker row matches no process (pid 0).
	var pr model.Process
	pr.PID, pr.StartTicks = 10, 5
	s := model.Sample{Disk: &model.Disk{PerProcess: pp}, Processes: []model.Process{pr}}
	model.JoinFrame(&s)
	if got := s.Processes[0].ProcessDisk; got.DiskReadBytesPerS != model.Known(2048) || got.DiskIOsPerS != model.Known(0.5) || got.DiskLatencyMeanUs != model.Known(2) {
		t.Errorf("joined %+v", got)
	}
}
