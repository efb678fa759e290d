package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ShortLived is what vitals knows of processes too short-lived for the
// process table ("the CPU is busy but top shows nothing"): those that
// started and exited between two frames, over the last interval and the
// last minute, and how much of the CPU the process table misses they
// explain.
type ShortLived struct {
	// Source is SourceProcEvents (exit events: every process, its CPU
	// time) or SourceScanner (processes new in the table: those living
	// less than an interval are missed and their CPU is unknown).
	Source string `json:"source"`
	// Note says what the numbers cannot see (scanner mode, event drops).
	Note     string           `json:"note,omitempty"`
	Interval ShortLivedWindow `json:"interval"`
	Minute   ShortLivedWindow `json:"minute"`
	CPUGap   CPUGap           `json:"cpu_gap"`
}

// ShortLivedWindow is one window's short-lived processes.
type ShortLivedWindow struct {
	WindowS float64 `json:"window_s"`
	// Count is processes that started and exited inside the window
	// (from eBPF), or processes new in the table (scanner).
	Count int `json:"count"`
	// Execs is every exec in the window; ExecPerS its rate.
	Execs    int   `json:"execs"`
	ExecPerS Float `json:"exec_per_s"`
	// CPUS is the CPU time the short-lived processes used (unknown from
	// the scanner).
	CPUS Float `json:"cpu_s"`
	// TopByCount and TopByCPU are the commands with the most short-lived
	// processes and the most CPU used by them (at most ShortLivedTop).
	TopByCount []CommUse `json:"top_by_count"`
	TopByCPU   []CommUse `json:"top_by_cpu"`
}

// CommUse is one command's short-lived processes in a window.
type CommUse struct {
	Comm  string  `json:"comm"`
	Count int     `json:"count"`
	CPUS  float64 `json:"cpu_s"`
}

// CPUGap compares the CPU time /proc/stat counts as busy in tasks (user,
// nice, system, guest: what process times include, so not irq, softirq or
// steal) with the process table's sum over the same interval. The
// difference is CPU used by processes the table does not show: short-lived
// ones, and processes that exited during the interval.
type CPUGap struct {
	BusyS  Float `json:"busy_s"`
	TableS Float `json:"table_s"`
	// GapS is BusyS - TableS (may be slightly negative: the windows of
	// the two readings differ by a few milliseconds).
	GapS Float `json:"gap_s"`
	// ShortLivedS is the CPU of this interval's short-lived processes;
	// ExplainedPct that as a share of the gap (capped at 100).
	ShortLivedS  Float `json:"short_lived_s"`
	ExplainedPct Float `json:"explained_pct"`
	// Hint says in words what the gap means (empty when there is none
	// worth a word).
	Hint string `json:"hint,omitempty"`
}

// ShortLivedTop is how many commands the top lists keep.
const ShortLivedTop = 5

// ShortLivedTally is one interval's counts, kept by the events probe as
// events arrive.
type ShortLivedTally struct {
	Start, End time.Time
	Execs      int
	Count      int
	CPUS       float64
	ByComm     map[string]*CommUse
}

// Add counts one short-lived process.
func (t *ShortLivedTally) Add(comm string, cpuS float64) {
	if t.ByComm == nil {
		t.ByComm = map[string]*CommUse{}
	}
	c := t.ByComm[comm]
	if c == nil {
		c = &CommUse{Comm: comm}
		t.ByComm[comm] = c
	}
	c.Count++
	c.CPUS += cpuS
	t.Count++
	t.CPUS += cpuS
}

// ShortLivedTracker keeps the last minute of tallies.
type ShortLivedTracker struct {
	tallies []ShortLivedTally
}

// ShortLivedMinute is the span of ShortLived.Minute.
const ShortLivedMinute = time.Minute

// Add records an interval's tally and returns the interval's and the last
// minute's windows. cpuKnown is false for the scanner, which sees no CPU
// time of processes it never listed.
func (t *ShortLivedTracker) Add(tally ShortLivedTally, cpuKnown bool) (interval, minute ShortLivedWindow) {
	t.tallies = append(t.tallies, tally)
	cut := 0
	for cut < len(t.tallies) && tally.End.Sub(t.tallies[cut].End) >= ShortLivedMinute {
		cut++
	}
	t.tallies = slices.Delete(t.tallies, 0, cut)
	interval = window(t.tallies[len(t.tallies)-1:], cpuKnown)
	minute = window(t.tallies, cpuKnown)
	return interval, minute
}

func window(ts []ShortLivedTally, cpuKnown bool) ShortLivedWindow {
	var w ShortLivedWindow
	by := map[string]*CommUse{}
	var cpu float64
	for _, t := range ts {
		w.Execs += t.Execs
		w.Count += t.Count
		cpu += t.CPUS
		for k, c := range t.ByComm {
			a := by[k]
			if a == nil {
				a = &CommUse{Comm: k}
				by[k] = a
			}
			a.Count += c.Count
			a.CPUS += c.CPUS
		}
	}
	if len(ts) > 0 {
		w.WindowS = ts[len(ts)-1].End.Sub(ts[0].Start).Seconds()
	}
	if w.WindowS > 0 {
		w.ExecPerS = Known(float64(w.Execs) / w.WindowS)
	}
	if cpuKnown {
		w.CPUS = Known(cpu)
	}
	all := make([]CommUse, 0, len(by))
	for _, c := range by {
		all = append(all, *c)
	}
	w.TopByCount = topBy(all, func(a, b CommUse) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.CPUS, a.CPUS), strings.Compare(a.Comm, b.Comm))
	})
	if cpuKnown {
		w.TopByCPU = topBy(all, func(a, b CommUse) int {
			return cmp.Or(cmp.Compare(b.CPUS, a.CPUS), cmp.Compare(b.Count, a.Count), strings.Compare(a.Comm, b.Comm))
		})
	} else {
		w.TopByCPU = []CommUse{}
	}
	return w
}

func topBy(all []CommUse, order func(a, b CommUse) int) []CommUse {
	s := slices.Clone(all)
	slices.SortFunc(s, order)
	if len(s) > ShortLivedTop {
		s = s[:ShortLivedTop]
	}
	if s == nil {
		s = []CommUse{}
	}
	return s
}

// Gap thresholds: a gap is worth a word when it is at least GapMinCPUs of
// a CPU and GapMinPct of the busy time; short-lived processes "explain" it
// from GapExplainedPct.
const (
	GapMinCPUs      = 0.05
	GapMinPct       = 5
	GapExplainedPct = 50
)

// ComputeCPUGap compares the CPU part's task time with the process table's
// over windowS seconds. shortS is the CPU of this interval's short-lived
// processes (unknown from the scanner); newProcs the processes new in the
// table (for the scanner's hint).
func ComputeCPUGap(cpu *CPU, procs []Process, windowS float64, short ShortLivedWindow, source string) CPUGap {
	var g CPUGap
	g.ShortLivedS = short.CPUS
	if cpu == nil || windowS <= 0 || procs == nil {
		return g
	}
	t := cpu.Total
	n := float64(max(cpu.Online, 1))
	busy := (t.User + t.Nice + t.System + t.Guest + t.GuestNice) / 100 * n * windowS
	var table float64
	for i := range procs {
		table += procs[i].CPUPct
	}
	table = table / 100 * windowS
	g.BusyS, g.TableS, g.GapS = Known(busy), Known(table), Known(busy-table)
	gap := busy - table
	worth := gap >= GapMinCPUs*windowS && gap >= busy*GapMinPct/100
	if short.CPUS.OK && gap > 0 {
		g.ExplainedPct = Known(min(100, short.CPUS.V/gap*100))
	}
	switch {
	case !worth:
	case source == SourceScanner:
		g.Hint = fmt.Sprintf("the process table misses %.2f CPUs; without eBPF processes living less than an interval are not seen (%d new processes appeared)",
			gap/windowS, short.Count)
	case g.ExplainedPct.OK && g.ExplainedPct.V >= GapExplainedPct:
		top := ""
		if len(short.TopByCPU) > 0 {
			c := short.TopByCPU[0]
			top = fmt.Sprintf(", most by %s (%d runs, %.2f CPU-s)", Sanitize(c.Comm), c.Count, c.CPUS)
		}
		g.Hint = fmt.Sprintf("short-lived processes explain %.0f%% of the %.2f CPUs the process table misses: %d processes%s",
			g.ExplainedPct.V, gap/windowS, short.Count, top)
	default:
		g.Hint = fmt.Sprintf("the process table misses %.2f CPUs and short-lived processes explain %.0f%% of it (the rest: processes that exited this interval)",
			gap/windowS, g.ExplainedPct.Or(0))
	}
	return g
}
