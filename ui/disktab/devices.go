package disktab

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// devCol is one column of the device table (iostat -x's, in its order).
// Columns are dropped by priority when the pane is narrow.
type devCol struct {
	title string
	width int
	prio  int // 0 always shown; higher goes first when narrow
	value func(d *model.DiskDevice) string
	help  string
}

func opt(v model.Float, decimals int) string { return common.OptFloat(v, decimals) }

// rate formats a per-second count compactly, one decimal under 100.
func rate(v model.Float) string {
	if !v.OK {
		return common.Dash
	}
	if v.V < 100 {
		return strconv.FormatFloat(v.V, 'f', 1, 64)
	}
	return common.Count(v.V)
}

func bytesPerS(v model.Float) string {
	if !v.OK {
		return common.Dash
	}
	return common.Bytes(uint64(v.V + 0.5))
}

// kindShort names a kind in four cells.
func kindShort(d *model.DiskDevice) string {
	switch d.Kind {
	case model.DiskKindPartition:
		return "part"
	case model.DiskKindDisk:
		switch {
		case d.Rotational == nil:
			return "disk"
		case *d.Rotational:
			return "hdd"
		}
		return "ssd"
	}
	return d.Kind
}

// utilCell shows %util, marking a value over 100 (an accounting artefact)
// with "!" instead of hiding it.
func utilCell(d *model.DiskDevice) string {
	if !d.UtilPct.OK {
		return common.Dash
	}
	s := strconv.FormatFloat(d.UtilPct.V, 'f', 1, 64)
	if d.UtilPct.V > 100 {
		s += "!"
	}
	return s
}

var devColumns = []devCol{
	{"DEVICE", 10, 0, func(d *model.DiskDevice) string {
		if d.Kind == model.DiskKindPartition {
			return " " + d.Name
		}
		return d.Name
	}, "the name in /proc/diskstats; partitions are indented under their disk"},
	{"KIND", 4, 1, kindShort, "hdd/ssd: a whole disk by queue/rotational (virtual disks report what the hypervisor says); part: partition; loop, dm (device mapper: LVM, dm-crypt), md (software RAID), zram (compressed RAM: not a disk)"},
	{"r/s", 6, 2, func(d *model.DiskDevice) string { return rate(d.ReadsPerS) }, "reads completed per second (iostat r/s)"},
	{"w/s", 6, 2, func(d *model.DiskDevice) string { return rate(d.WritesPerS) }, "writes completed per second (iostat w/s)"},
	{"d/s", 5, 9, func(d *model.DiskDevice) string { return rate(d.DiscardsPerS) }, "discards (TRIM) completed per second; – on kernels before 4.18"},
	{"f/s", 5, 9, func(d *model.DiskDevice) string { return rate(d.FlushesPerS) }, "flush requests completed per second; – before 5.5; partitions have none"},
	{"READ/s", 7, 2, func(d *model.DiskDevice) string { return bytesPerS(d.ReadBytesPerS) }, "bytes read per second (iostat rkB/s × 1024; sectors are 512 bytes)"},
	{"WRITE/s", 7, 2, func(d *model.DiskDevice) string { return bytesPerS(d.WriteBytesPerS) }, "bytes written per second (iostat wkB/s × 1024)"},
	{"rrqm/s", 6, 7, func(d *model.DiskDevice) string { return rate(d.RrqmPerS) }, "read requests merged into others per second before reaching the device"},
	{"wrqm/s", 6, 7, func(d *model.DiskDevice) string { return rate(d.WrqmPerS) }, "write requests merged per second"},
	{"%rrqm", 5, 8, func(d *model.DiskDevice) string { return opt(d.RrqmPct, 0) }, "merged / (merged + issued) reads × 100; – without reads"},
	{"%wrqm", 5, 8, func(d *model.DiskDevice) string { return opt(d.WrqmPct, 0) }, "merged / (merged + issued) writes × 100"},
	{"r_await", 7, 3, func(d *model.DiskDevice) string { return opt(d.RAwaitMS, 2) }, "mean ms a read took, queue time included: Δread ms / Δreads; – when there were no reads (iostat prints 0.00)"},
	{"w_await", 7, 3, func(d *model.DiskDevice) string { return opt(d.WAwaitMS, 2) }, "mean ms a write took, queue time included"},
	{"d_await", 7, 9, func(d *model.DiskDevice) string { return opt(d.DAwaitMS, 2) }, "mean ms a discard took"},
	{"f_await", 7, 9, func(d *model.DiskDevice) string { return opt(d.FAwaitMS, 2) }, "mean ms a flush took"},
	{"await", 7, 4, func(d *model.DiskDevice) string { return opt(d.AwaitMS, 2) }, "mean ms over reads, writes and discards (flushes left out, as iostat)"},
	{"aqu-sz", 6, 1, func(d *model.DiskDevice) string { return opt(d.AquSz, 2) }, "time-averaged requests in flight: Δweighted ms (field 11) / interval ms. Above 1 requests wait for each other on a device that serves one at a time"},
	{"rareq", 6, 6, func(d *model.DiskDevice) string { return opt(d.RareqSzKB, 1) }, "mean read size in kB (iostat rareq-sz)"},
	{"wareq", 6, 6, func(d *model.DiskDevice) string { return opt(d.WareqSzKB, 1) }, "mean write size in kB (iostat wareq-sz)"},
	{"%util", 6, 1, utilCell, "share of the interval with at least one request in flight: Δio ms (field 10) / interval ms × 100. Not capped: above 100 (marked !) is a kernel accounting artefact. Near 100 means saturated only for a device that serves one request at a time (a single HDD)"},
	{"inflt", 5, 5, func(d *model.DiskDevice) string { return strconv.FormatUint(d.InFlight, 10) }, "requests issued to the driver and not completed, at the moment of reading (field 9)"},
}

// layoutColumns picks the columns that fit in width, keeping iostat's
// order: by priority while they fit.
func layoutColumns(width int) []devCol {
	idx := make([]int, len(devColumns))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return devColumns[a].prio - devColumns[b].prio })
	shown := make([]bool, len(devColumns))
	used := 0
	for _, i := range idx {
		w := devColumns[i].width + 1
		if used+w > width+1 {
			if devColumns[i].prio == 0 {
				shown[i] = true // the name, cut by Block
			}
			break
		}
		used += w
		shown[i] = true
	}
	var out []devCol
	for i, c := range devColumns {
		if shown[i] {
			out = append(out, c)
		}
	}
	return out
}

func renderRow(cols []devCol, cell func(c devCol) string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == 0 {
			b.WriteString(common.Fit(cell(c), c.width))
		} else {
			b.WriteString(common.FitRight(cell(c), c.width))
		}
	}
	return b.String()
}
