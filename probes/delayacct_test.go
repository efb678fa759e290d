package probes

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// setStatField rewrites field n (proc(5) numbering) of a fixture's stat.
func setStatField(t *testing.T, root string, pid int32, n int, v uint64) {
	t.Helper()
	path := filepath.Join(root, strconv.Itoa(int(pid)), "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	f[n-3] = strconv.FormatUint(v, 10)
	if err := os.WriteFile(path, []byte(string(b[:i+1])+" "+strings.Join(f, " ")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProcessScannerIODelay: iodelay is field 42's delta over the
// interval in % (hand-computed: 50 ticks of 100 Hz in 1 s = 50 %), and,
// with kernel.task_delayacct off or unknown, null with the reason — never
// the 0 the kernel prints then.
func TestProcessScannerIODelay(t *testing.T) {
	root := t.TempDir()
	sysctl := filepath.Join(root, "sys/kernel/task_delayacct")
	if err := os.MkdirAll(filepath.Dir(sysctl), 0o755); err != nil {
		t.Fatal(err)
	}
	setSysctl := func(v string) {
		if err := os.WriteFile(sysctl, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setSysctl("1\n")
	s, err := NewProcessScanner(ProcessScannerConfig{ProcRoot: root, PasswdPath: "/nonexistent", BootTime: scanBoot, ClockTicks: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.groupRunTime = func(int32) (uint64, bool) { return 0, false }
	th := []fakeThread{{tid: 10}}
	utime := uint64(10)
	step := func(blkio uint64) {
		utime += 5 // it ran: stat is read, not skipped
		writeFakeProc(t, root, 10, 3, utime, 0, th)
		setStatField(t, root, 10, 42, blkio)
	}
	sec := 0.0
	scan := func() model.Process {
		t.Helper()
		sec++
		procs, _, err := s.Scan(scanBoot.Add(time.Duration(sec * float64(time.Second))))
		if err != nil {
			t.Fatal(err)
		}
		return byPID(procs)[10]
	}
	step(100)
	scan() // baseline
	step(150)
	if p := scan(); p.IODelayPct != model.Known(50) || p.IODelayReason != "" {
		t.Errorf("on: iodelay %v (%q), want 50 %%", p.IODelayPct, p.IODelayReason)
	}
	setSysctl("0\n")
	step(150)
	if p := scan(); p.IODelayPct.OK || p.IODelayReason != delayacctOff {
		t.Errorf("off: iodelay %v (%q)", p.IODelayPct, p.IODelayReason)
	}
	// A kernel without the sysctl: unknown.
	noSysctl := newDelayacct(t.TempDir())
	noSysctl.refresh()
	if noSysctl.on || noSysctl.reason != delayacctUnknown {
		t.Errorf("no sysctl: %v %q", noSysctl.on, noSysctl.reason)
	}
	// Back on: the first interval has no baseline taken while on.
	setSysctl("1\n")
	step(160)
	if p := scan(); p.IODelayPct.OK {
		t.Errorf("first interval after turning on: %v", p.IODelayPct)
	}
	step(170)
	if p := scan(); p.IODelayPct != model.Known(10) {
		t.Errorf("second interval after turning on: %v, want 10 %%", p.IODelayPct)
	}
}

func TestParseDelayacctAndStatField42(t *testing.T) {
	for _, c := range []struct {
		in     string
		ok     bool
		on     bool
		reason string
	}{
		{"1\n", true, true, ""}, {"0\n", true, false, delayacctOff}, {"", true, false, delayacctUnknown},
		{"x\n", true, false, delayacctUnknown}, {"1\n", false, false, delayacctUnknown},
	} {
		if on, why := parseDelayacct([]byte(c.in), c.ok); on != c.on || why != c.reason {
			t.Errorf("%q: %v %q", c.in, on, why)
		}
	}
	var st procStat
	line39 := "7 (a b) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 1000 10 1 1 1 1 1 1 0 0 0 0 0 0 0 17 1"
	if !parseProcStat([]byte(line39), &st) || st.BlkioOK || st.Processor != 1 {
		t.Errorf("39 fields: %+v", st)
	}
	if !parseProcStat([]byte(line39+" 0 0 42 9 9"), &st) || !st.BlkioOK || st.BlkioTicks != 42 {
		t.Errorf("with field 42: %+v", st)
	}
}
