package memtab

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/chart"
	"github.com/vitals-dev/vitals/ui/prochist"
)

func TestSignedBytes(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.4: "0", 1536: "+1.5K", -300 << 20: "-300M", 1.2 * (1 << 30): "+1.2G"} {
		if got := SignedBytes(v); got != want {
			t.Errorf("SignedBytes(%v) = %q, want %q", v, got, want)
		}
	}
}

// Issue #12 item 6: a process whose RSS climbs 100M or more over the
// growth window and is still climbing is named; one that grew at start-up
// and stopped, or grows slowly, is not.
func TestGrowthAlerts(t *testing.T) {
	tr := prochist.New()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(pid int32, comm string, rss uint64) model.Process {
		p := model.Process{ProcessIdentity: model.ProcessIdentity{PID: pid, StartTicks: 1, Comm: comm}}
		p.RSSBytes = rss
		return p
	}
	var procs []model.Process
	for s := 0; s <= 120; s++ {
		burst := uint64(500 * mib)
		if s < 10 {
			burst = uint64(s) * 50 * mib
		}
		procs = []model.Process{
			mk(1, "demo-leak", uint64(50*mib+s*2500*1024)), // 2.5 MB/s: 300 MB in 2 min
			mk(2, "java", burst),
			mk(3, "slow", uint64(gib+s*100*1024)),
		}
		tr.Record(&model.Sample{Time: base.Add(time.Duration(s) * time.Second), IntervalS: 1, Processes: procs})
	}
	a := GrowthAlerts(procs, tr)
	if len(a) != 1 {
		t.Fatalf("alerts %v, want demo-leak alone", a)
	}
	if want := "RSS of demo-leak grew 293M in 2 min (+146M/min, pid 1)"; !strings.HasPrefix(a[0].Text, want) {
		t.Errorf("alert %q, want it to start %q", a[0].Text, want)
	}
	if GrowthAlerts(procs, nil) != nil {
		t.Error("alerts without history")
	}
}

// Issue #12 item 6: the memory charts are scaled to their data with a
// labelled byte axis, not 0 to total RAM.
func TestChartsScaleToTheData(t *testing.T) {
	tab := newTab(false, 160, 45)
	v := ansi.Strip(tab.View())
	lines := strings.Split(v, "\n")
	var chartLines []string
	for i, l := range lines {
		if strings.HasPrefix(l, "used (total − available)") {
			chartLines = lines[i+1 : i+9]
		}
	}
	if chartLines == nil {
		t.Fatalf("no memory chart:\n%s", v)
	}
	joined := strings.Join(chartLines, "\n")
	// The used series runs from 12.3G to 14.8G in the drawn window: the
	// axis spans about that, not 0 to 16G.
	for _, want := range []string{"14.7G│", "12.1G│"} {
		if !strings.Contains(joined, want) {
			t.Errorf("axis lacks %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, " 0│") || strings.Contains(joined, "16G│") {
		t.Errorf("axis still spans 0 to total:\n%s", joined)
	}
	// A flat series is a level line in the middle of a 1 %-of-RAM range.
	lo, hi := chart.DataRange(0, chartMinSpan(16*gib), []float64{8 * gib, 8 * gib})
	if lo >= 8*gib || hi <= 8*gib || hi-lo < 16*gib/100 {
		t.Errorf("flat series range %v..%v", lo, hi)
	}
}
