package proctable

import (
	"testing"

	"github.com/vitals-dev/vitals/model"
)

func TestNumericColumnsShowAndSortTheSameField(t *testing.T) {
	big, small := &model.Process{}, &model.Process{}
	big.PID, big.CPUPct, big.WaitPct = 1, 50, model.Known(0)
	small.PID, small.CPUPct, small.WaitPct = 2, 5, model.Unknown
	cpu := Numeric("cpu", "%CPU", 6, func(p *model.Process) float64 { return p.CPUPct }, func(v float64) string { return "x" }, "")
	if !cpu.Less(small, big) || cpu.Less(big, small) || !cpu.DescendingFirst || cpu.Align != AlignRight {
		t.Errorf("Numeric: %+v", cpu)
	}
	wait := OptNumeric("wait", "%WAIT", 6, 1, func(p *model.Process) model.Float { return p.WaitPct }, "")
	// Unknown sorts below a known zero, and reads as a dash.
	if !wait.Less(small, big) || wait.Value(small) != "–" || wait.Value(big) != "0.0" {
		t.Errorf("OptNumeric: less %v, values %q %q", wait.Less(small, big), wait.Value(small), wait.Value(big))
	}
	if c := PIDColumn().WithHelp("pid"); c.Help != "pid" || PIDColumn().Help == "pid" {
		t.Error("WithHelp must change only the copy")
	}
}
