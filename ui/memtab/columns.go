package memtab

import (
	"strconv"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
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

func lessDetail(a, b model.Float) bool { return a.Or(-1) < b.Or(-1) }

// Columns are the Memory tab's process table: what top, ps and smem show.
func Columns() []proctable.Column {
	byPID := func(a, b *model.Process) bool { return a.PID < b.PID }
	f1 := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	return []proctable.Column{
		{ID: "pid", Title: "PID", Width: 7, Align: proctable.AlignRight,
			Value: func(p *model.Process) string { return strconv.Itoa(int(p.PID)) }, Less: byPID,
			Help: "process id"},
		{ID: "user", Title: "USER", Width: 9,
			Value: func(p *model.Process) string { return p.User },
			Less:  func(a, b *model.Process) bool { return a.User < b.User },
			Help:  "real user of the process"},
		{ID: "state", Title: "S", Width: 1,
			Value: func(p *model.Process) string { return p.State },
			Less:  func(a, b *model.Process) bool { return a.State < b.State },
			Help:  "process state (D = uninterruptible: under memory pressure often waiting for reclaim or swap-in)"},
		{ID: "rss", Title: "RSS", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Bytes(p.RSSBytes) },
			Less:  func(a, b *model.Process) bool { return a.RSSBytes < b.RSSBytes },
			Help:  "resident set size: pages of the process in RAM, shared ones counted in full (/proc/PID/stat). Summing RSS over processes over-counts shared memory"},
		{ID: "pss", Title: "PSS", Width: 7, Align: proctable.AlignRight, DescendingFirst: true, Detail: true,
			Value: func(p *model.Process) string { return detail(p, p.PSSBytes) },
			Less:  func(a, b *model.Process) bool { return lessDetail(a.PSSBytes, b.PSSBytes) },
			Help:  "proportional set size: private pages plus each shared page divided by the number of processes sharing it; PSS sums to the real total (/proc/PID/smaps_rollup, read only for rows on screen: – not read yet, ~ from an earlier interval, n/a not permitted)"},
		{ID: "uss", Title: "USS", Width: 7, Align: proctable.AlignRight, DescendingFirst: true, Detail: true,
			Value: func(p *model.Process) string { return detail(p, p.USSBytes) },
			Less:  func(a, b *model.Process) bool { return lessDetail(a.USSBytes, b.USSBytes) },
			Help:  "unique set size: private pages only, what the system gets back if the process exits (Private_Clean + Private_Dirty in smaps_rollup)"},
		{ID: "shr", Title: "SHR", Width: 7, Align: proctable.AlignRight, DescendingFirst: true, Detail: true,
			Value: func(p *model.Process) string { return detail(p, p.SharedBytes) },
			Less:  func(a, b *model.Process) bool { return lessDetail(a.SharedBytes, b.SharedBytes) },
			Help:  "resident pages shared with other processes (Shared_Clean + Shared_Dirty in smaps_rollup)"},
		{ID: "swap", Title: "SWAP", Width: 7, Align: proctable.AlignRight, DescendingFirst: true, Detail: true,
			Value: func(p *model.Process) string { return detail(p, p.SwapBytes) },
			Less:  func(a, b *model.Process) bool { return lessDetail(a.SwapBytes, b.SwapBytes) },
			Help:  "the process's pages now in swap (Swap in smaps_rollup)"},
		{ID: "vsz", Title: "VSZ", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Bytes(p.VSZBytes) },
			Less:  func(a, b *model.Process) bool { return a.VSZBytes < b.VSZBytes },
			Help:  "virtual size: all mapped address space, resident or not (/proc/PID/stat); large VSZ alone is not a problem"},
		{ID: "mem", Title: "%MEM", Width: 5, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return f1(p.MemPct) },
			Less:  func(a, b *model.Process) bool { return a.MemPct < b.MemPct },
			Help:  "RSS as a percentage of MemTotal, as top shows it"},
		{ID: "minflt", Title: "MINF/s", Width: 7, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Count(p.MinFltPerS) },
			Less:  func(a, b *model.Process) bool { return a.MinFltPerS < b.MinFltPerS },
			Help:  "minor page faults per second: a page mapped without I/O (first touch of new memory, or a page already in the page cache)"},
		{ID: "majflt", Title: "MAJF/s", Width: 6, Align: proctable.AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Count(p.MajFltPerS) },
			Less:  func(a, b *model.Process) bool { return a.MajFltPerS < b.MajFltPerS },
			Help:  "major page faults per second: the page had to be read from disk or swap; sustained major faults mean memory is short (or a cold mmap)"},
		{ID: "command", Title: "COMMAND", Width: 12,
			Value: func(p *model.Process) string { return common.DisplayCommand(p.Comm, p.Cmdline) },
			Less:  func(a, b *model.Process) bool { return a.Cmdline < b.Cmdline },
			Help:  "command line, program directory dropped; control characters shown escaped"},
	}
}
