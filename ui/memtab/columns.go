package memtab

import (
	"math"
	"strconv"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/prochist"
	"github.com/vitals-dev/vitals/ui/proctable"
)

// detail formats an on-demand value: "–" never read, "n/a" not permitted,
// a "~" suffix when it is from an earlier interval.
func detail(p *model.Process, v model.Float) string {
	switch {
	case p.MemDetail == model.DetailDenied:
		return "n/a"
	case !v.OK:
		return common.Dash
	case p.MemDetail == model.DetailStale:
		return common.Bytes(uint64(v.V)) + "~"
	default:
		return common.Bytes(uint64(v.V))
	}
}

// detailColumn is a size read on demand from smaps_rollup; unknown sizes
// sort below every known one.
func detailColumn(id, title string, get func(*model.Process) model.Float, help string) proctable.Column {
	return proctable.Column{ID: id, Title: title, Width: 7, Align: proctable.AlignRight, DescendingFirst: true, Detail: true,
		Value: func(p *model.Process) string { return detail(p, get(p)) },
		Less:  func(a, b *model.Process) bool { return get(a).Or(-1) < get(b).Or(-1) },
		Help:  help}
}

// growthColumn is RSS growth per minute over the growth window, from the
// history the root records (ctx.Procs); unknown until a process has been
// seen for prochist.MinGrowthSpan, and sorted below every known figure.
func growthColumn(procs *prochist.Tracker) proctable.Column {
	get := func(p *model.Process) prochist.Growth {
		if procs == nil {
			return prochist.Growth{}
		}
		return procs.Growth(p.Key())
	}
	rate := func(p *model.Process) float64 {
		if g := get(p); g.OK {
			return g.PerMinute
		}
		return math.Inf(-1)
	}
	return proctable.Column{ID: "growth", Title: "GROW/m", Width: 7, Align: proctable.AlignRight, DescendingFirst: true, Priority: 2,
		Value: func(p *model.Process) string {
			g := get(p)
			if !g.OK {
				return common.Dash
			}
			return SignedBytes(g.PerMinute)
		},
		Less: func(a, b *model.Process) bool { return rate(a) < rate(b) },
		Help: "RSS growth in bytes per minute, over the last " + strconv.Itoa(int(prochist.GrowthWindow.Minutes())) +
			" minutes (or since vitals first saw the process): a leak climbs to the top of this sort (> from RSS). – until the process has been seen for " +
			strconv.Itoa(int(prochist.MinGrowthSpan.Seconds())) + " s. From the RSS of successive samples"}
}

// SignedBytes is a byte change with its sign: +1.2G, -300M, 0.
func SignedBytes(v float64) string {
	switch {
	case v >= 1:
		return "+" + common.Bytes(uint64(v))
	case v <= -1:
		return "-" + common.Bytes(uint64(-v))
	}
	return "0"
}

// Columns are the Memory tab's process table: what top, ps and smem show;
// procs is the history RSS growth is measured from.
func Columns(procs *prochist.Tracker) []proctable.Column {
	return []proctable.Column{
		// The Memory tab's help keeps its own words for these.
		proctable.PIDColumn().WithHelp("process id"),
		proctable.UserColumn().WithHelp("real user of the process"),
		proctable.StateColumn().WithHelp("process state (D = uninterruptible: under memory pressure often waiting for reclaim or swap-in)").WithPriority(5),
		proctable.Numeric("rss", "RSS", 6, func(p *model.Process) uint64 { return p.RSSBytes }, common.Bytes,
			"resident set size: pages of the process in RAM, shared ones counted in full (/proc/PID/stat). Summing RSS over processes over-counts shared memory").WithPriority(1),
		growthColumn(procs),
		detailColumn("pss", "PSS", func(p *model.Process) model.Float { return p.PSSBytes },
			"proportional set size: private pages plus each shared page divided by the number of processes sharing it; PSS sums to the real total (/proc/PID/smaps_rollup, read only for rows on screen: – not read yet, ~ from an earlier interval, n/a not readable, never 0: another user's smaps_rollup is readable only by root, mem_detail \"denied\" and null in the JSON)").WithPriority(2),
		detailColumn("uss", "USS", func(p *model.Process) model.Float { return p.USSBytes },
			"unique set size: private pages only, what the system gets back if the process exits (Private_Clean + Private_Dirty in smaps_rollup)").WithPriority(3),
		detailColumn("shr", "SHR", func(p *model.Process) model.Float { return p.SharedBytes },
			"resident pages shared with other processes (Shared_Clean + Shared_Dirty in smaps_rollup)").WithPriority(6),
		detailColumn("swap", "SWAP", func(p *model.Process) model.Float { return p.SwapBytes },
			"the process's pages now in swap (Swap in smaps_rollup)").WithPriority(3),
		proctable.Numeric("vsz", "VSZ", 6, func(p *model.Process) uint64 { return p.VSZBytes }, common.Bytes,
			"virtual size: all mapped address space, resident or not (/proc/PID/stat); large VSZ alone is not a problem").WithPriority(7),
		proctable.Numeric("mem", "%MEM", 5, func(p *model.Process) float64 { return p.MemPct }, common.Pct,
			"RSS as a percentage of MemTotal, as top shows it").WithPriority(5),
		proctable.Numeric("minflt", "MINF/s", 7, func(p *model.Process) float64 { return p.MinFltPerS }, common.Count,
			"minor page faults per second: a page mapped without I/O (first touch of new memory, or a page already in the page cache)").WithPriority(8),
		proctable.Numeric("majflt", "MAJF/s", 6, func(p *model.Process) float64 { return p.MajFltPerS }, common.Count,
			"major page faults per second: the page had to be read from disk or swap; sustained major faults mean memory is short (or a cold mmap)").WithPriority(4),
		proctable.CommandColumn().WithHelp("command line, program directory dropped; control characters shown escaped"),
	}
}
