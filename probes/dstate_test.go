package probes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func dproc(pid int32, start uint64, state, comm string) model.Process {
	// Fields set one by one: the Process struct is being split into parts.
	var p model.Process
	p.PID, p.StartTicks, p.State, p.Comm, p.User = pid, start, state, comm, "root"
	return p
}

func TestDStateTracksTimeInD(t *testing.T) {
	root := t.TempDir()
	for pid, wchan := range map[string]string{"10": "io_schedule\n", "20": "0", "30": "rpc_wait_bit_killable"} {
		os.MkdirAll(filepath.Join(root, pid), 0o755)
		os.WriteFile(filepath.Join(root, pid, "wchan"), []byte(wchan), 0o644)
	}
	p := NewDStateProbe(root)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	got := p.Scan([]model.Process{dproc(10, 5, "D", "dd"), dproc(20, 6, "S", "sleep"), dproc(30, 7, "D", "ls")}, at)
	if len(got) != 2 || got[0].InDS != 0 || got[0].Wchan != "io_schedule" {
		t.Fatalf("%+v", got)
	}
	// 3 s later: dd still in D (3 s), ls woke, 20 went into D; pid 30 is
	// reused by another process (new start time): a new D, not 3 s.
	got = p.Scan([]model.Process{dproc(10, 5, "D", "dd"), dproc(20, 6, "D", "sleep"), dproc(30, 99, "D", "other")}, at.Add(3*time.Second))
	if len(got) != 3 || got[0].PID != 10 || got[0].InDS != 3 {
		t.Fatalf("longest in D first: %+v", got)
	}
	for _, d := range got[1:] {
		if d.InDS != 0 {
			t.Errorf("%d in D for %v, want 0 (just entered)", d.PID, d.InDS)
		}
		if d.PID == 20 && (d.Wchan != "" || !strings.Contains(d.WchanReason, "ptrace")) {
			t.Errorf("wchan 0 must be unknown with a reason: %+v", d)
		}
	}
	// Left D: forgotten, so a later D starts from zero.
	p.Scan([]model.Process{dproc(10, 5, "S", "dd")}, at.Add(4*time.Second))
	got = p.Scan([]model.Process{dproc(10, 5, "D", "dd")}, at.Add(5*time.Second))
	if got[0].InDS != 0 {
		t.Errorf("a process back in D restarts its time: %v", got[0].InDS)
	}
	if got := p.Scan(nil, at); got == nil || len(got) != 0 {
		t.Error("no process in D is an empty list, not null")
	}
}

// The disk and D-state parts each keep the other's piece, in either order.
func TestDiskAndDStatePartsCompose(t *testing.T) {
	tree := newDiskTree(t, "diskstats-t0")
	dp, _ := newTestDiskProbe(t, tree)
	if part, err := dp.Collect(&Tick{Now: diskT0}); part != nil || err != nil {
		t.Fatal("baseline")
	}
	tree.set("diskstats-t1")
	diskPart, err := dp.Collect(&Tick{Now: diskT0.Add(time.Second)})
	if err != nil || diskPart == nil {
		t.Fatal(err)
	}
	ds := NewDStateProbe(t.TempDir())
	frame := &model.Sample{Processes: []model.Process{dproc(10, 5, "D", "dd")}}
	dsPart, err := ds.Collect(&Tick{Now: diskT0.Add(time.Second), Frame: frame})
	if err != nil || dsPart == nil {
		t.Fatal(err)
	}
	for _, dstateFirst := range []bool{true, false} {
		var s model.Sample
		if dstateFirst {
			dsPart(&s)
			diskPart(&s)
		} else {
			diskPart(&s)
			dsPart(&s)
		}
		if s.Disk.Device("sda") == nil || len(s.Disk.DState) != 1 || s.Disk.DState[0].WchanReason != "process exited" {
			t.Errorf("dstate first %v: %+v", dstateFirst, s.Disk.DState)
		}
	}
	// The scanner has not published: no part.
	if part, _ := ds.Collect(&Tick{Now: diskT0, Frame: &model.Sample{}}); part != nil {
		t.Error("a part without processes")
	}
}
