package model

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Memory is the system-wide memory part of a Sample: what free, vmstat,
// sar -r/-B/-S and slabtop report. Sizes are bytes; rates are per second
// over the interval.
type Memory struct {
	// From /proc/meminfo, with free(1)'s definitions.
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
	// AvailableBytes is MemAvailable: the kernel's estimate of what can be
	// allocated without swapping. Unknown on kernels without it.
	AvailableBytes Float `json:"available_bytes"`
	// UsedBytes is total − available, as free(1) of procps-ng 4 computes
	// it (total − free − buffers − cache when MemAvailable is missing).
	UsedBytes    uint64 `json:"used_bytes"`
	BuffersBytes uint64 `json:"buffers_bytes"`
	// CacheBytes is Cached + SReclaimable, free's "buff/cache" minus buffers.
	CacheBytes uint64 `json:"cache_bytes"`
	// PageCacheBytes is Cached alone: the page cache (cachestat's CACHED).
	PageCacheBytes         uint64 `json:"page_cache_bytes"`
	SharedBytes            uint64 `json:"shared_bytes"` // Shmem
	SlabReclaimableBytes   uint64 `json:"slab_reclaimable_bytes"`
	SlabUnreclaimableBytes uint64 `json:"slab_unreclaimable_bytes"`
	DirtyBytes             uint64 `json:"dirty_bytes"`
	WritebackBytes         uint64 `json:"writeback_bytes"`
	AnonBytes              uint64 `json:"anon_bytes"` // Active(anon) + Inactive(anon)
	FileBytes              uint64 `json:"file_bytes"` // Active(file) + Inactive(file)
	ActiveFileBytes        uint64 `json:"active_file_bytes"`
	InactiveFileBytes      uint64 `json:"inactive_file_bytes"`
	AnonHugePagesBytes     uint64 `json:"anon_huge_pages_bytes"`
	HugePagesTotal         uint64 `json:"huge_pages_total"`
	HugePagesFree          uint64 `json:"huge_pages_free"`
	HugePageSizeBytes      uint64 `json:"huge_page_size_bytes"`

	Swap Swap `json:"swap"`
	// VM holds the /proc/vmstat rates.
	VM VMRates `json:"vmstat"`
	// OOMKills is the kernel's cumulative oom_kill counter; OOMKillsDelta
	// how many happened in this interval; LastOOMKill when the counter last
	// rose while vitals was watching (zero if never).
	OOMKills      uint64    `json:"oom_kills"`
	OOMKillsDelta uint64    `json:"oom_kills_delta"`
	LastOOMKill   time.Time `json:"last_oom_kill,omitzero"`

	// PSI is /proc/pressure/memory; nil when unavailable.
	PSI *Pressure `json:"psi"`

	// Zones are the per-node, per-zone free pages and watermarks of
	// /proc/zoneinfo (zones with managed pages only).
	Zones         []ZoneWatermarks `json:"zones"`
	Swappiness    Float            `json:"swappiness"`      // vm.swappiness
	MinFreeKbytes Float            `json:"min_free_kbytes"` // vm.min_free_kbytes

	// Slab is the largest slab caches by total size (slabtop -s c), nil
	// when /proc/slabinfo is not readable (it is root-only).
	Slab []SlabCache `json:"slab"`

	// Cgroups are the memory cgroups that contain processes.
	Cgroups []MemCgroup `json:"cgroups"`

	// Unavailable maps a field ("psi", "slab", "zones", "available_bytes",
	// "cgroups", ...) to why it could not be read.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// Swap is swap space and its use.
type Swap struct {
	TotalBytes  uint64 `json:"total_bytes"`
	FreeBytes   uint64 `json:"free_bytes"`
	UsedBytes   uint64 `json:"used_bytes"`
	CachedBytes uint64 `json:"cached_bytes"` // SwapCached
}

// VMRates are /proc/vmstat counters as per-second rates. Unknown across a
// counter reset or where the kernel lacks the counter.
type VMRates struct {
	// vmstat si/so in pages per second (pswpin, pswpout).
	SwapInPagesPerS  Float `json:"swap_in_pages_per_s"`
	SwapOutPagesPerS Float `json:"swap_out_pages_per_s"`
	// vmstat bi/bo: KiB paged in from / out to block devices per second
	// (pgpgin, pgpgout).
	PageInKBPerS  Float `json:"page_in_kb_per_s"`
	PageOutKBPerS Float `json:"page_out_kb_per_s"`
	// Page faults per second: all (pgfault) and major (pgmajfault, needed I/O).
	FaultsPerS      Float `json:"faults_per_s"`
	MajorFaultsPerS Float `json:"major_faults_per_s"`
	// Pages scanned and reclaimed per second, by kswapd (background) and
	// directly by allocating tasks (direct reclaim: they stall; saturation).
	ScanKswapdPerS  Float `json:"pgscan_kswapd_per_s"`
	ScanDirectPerS  Float `json:"pgscan_direct_per_s"`
	StealKswapdPerS Float `json:"pgsteal_kswapd_per_s"`
	StealDirectPerS Float `json:"pgsteal_direct_per_s"`
	// All pages scanned / reclaimed per second, whoever did it
	// (pgscan_anon + pgscan_file). Reclaim forced by a cgroup's memory
	// limit is counted only here: the kernel leaves it out of the kswapd
	// and direct counters.
	ScanAllPerS  Float `json:"pgscan_per_s"`
	StealAllPerS Float `json:"pgsteal_per_s"`
	// Refaults per second: evicted pages needed again soon (thrashing).
	RefaultAnonPerS Float `json:"workingset_refault_anon_per_s"`
	RefaultFilePerS Float `json:"workingset_refault_file_per_s"`
}

// ZoneWatermarks is one zone of one NUMA node, in pages (4 KiB on x86).
// Below Low kswapd wakes and reclaims; below Min allocations reclaim
// directly (and stall).
type ZoneWatermarks struct {
	Node      int    `json:"node"`
	Zone      string `json:"zone"`
	FreePages uint64 `json:"free_pages"`
	MinPages  uint64 `json:"min_pages"`
	LowPages  uint64 `json:"low_pages"`
	HighPages uint64 `json:"high_pages"`
	Managed   uint64 `json:"managed_pages"`
}

// SlabCache is one line of /proc/slabinfo.
type SlabCache struct {
	Name       string `json:"name"`
	ActiveObjs uint64 `json:"active_objs"`
	NumObjs    uint64 `json:"num_objs"`
	ObjSize    uint64 `json:"obj_size_bytes"`
	// SizeBytes is num_slabs × pages per slab × page size, slabtop's
	// CACHE SIZE.
	SizeBytes uint64 `json:"size_bytes"`
}

// MemCgroup is one memory cgroup with processes in it.
type MemCgroup struct {
	// Path is relative to the hierarchy root, "/" for the root itself.
	Path    string `json:"path"`
	Version int    `json:"version"` // 1 or 2
	// UsageBytes is memory.current (v2) or memory.usage_in_bytes (v1).
	UsageBytes uint64 `json:"usage_bytes"`
	// WorkingSetBytes is usage − inactive_file, the figure kubelet and
	// cAdvisor use for eviction and "memory usage".
	WorkingSetBytes   uint64 `json:"working_set_bytes"`
	AnonBytes         uint64 `json:"anon_bytes"`
	FileBytes         uint64 `json:"file_bytes"`
	InactiveFileBytes uint64 `json:"inactive_file_bytes"`
	// LimitBytes is memory.max / memory.limit_in_bytes; Unknown = no limit.
	LimitBytes Float `json:"limit_bytes"`
	// OOMEvents is the cgroup's oom (limit hit) count and OOMKills its
	// oom_kill count, cumulative; null where the kernel does not count
	// them (v1 has no OOM event count; Unavailable says why).
	OOMEvents Float `json:"oom_events"`
	OOMKills  Float `json:"oom_kills"`
	// PSI is the cgroup's memory.pressure (v2 only).
	PSI *Pressure `json:"psi"`
	// RefaultFilePerS and RefaultAnonPerS are workingset refaults per
	// second over the frame's interval (memory.stat workingset_refault_file
	// and _anon; v1's total_* lines, the cgroup and its descendants, as v2's
	// memory.stat counts): evicted pages of this cgroup needed again, its
	// thrashing. Unknown in a cgroup's first frame, across a counter reset,
	// or when memory.stat lacks the line (Unavailable says so).
	RefaultFilePerS Float `json:"refault_file_per_s"`
	RefaultAnonPerS Float `json:"refault_anon_per_s"`
	// RefaultFile and RefaultAnon are the cumulative counters the rates
	// come from (ok false: no such line).
	RefaultFile, RefaultAnon Counter `json:"-"`
	// Processes in the cgroup and the sum of their RSS: compare with the
	// working set, which also holds the cgroup's active page cache.
	Processes   int    `json:"processes"`
	RSSSumBytes uint64 `json:"rss_sum_bytes"`
	// Unavailable says why fields could not be read.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// Counter is a cumulative kernel counter that a file may lack (OK false).
type Counter struct {
	V  uint64
	OK bool
}

// RefaultPerS is the cgroup's file plus anon refault rate, Unknown when
// neither is known.
func (c *MemCgroup) RefaultPerS() Float {
	if !c.RefaultFilePerS.OK && !c.RefaultAnonPerS.OK {
		return Unknown
	}
	return Known(c.RefaultFilePerS.Or(0) + c.RefaultAnonPerS.Or(0))
}

// TopRefaulting returns up to n of the cgroups with the highest refault
// rate (above zero), highest first. The rates include descendants', so a
// cgroup whose rate is mostly (90 %) one listed descendant's gives way to
// that descendant, which names the thrashing more precisely; the root,
// whose rate is the whole machine's, is never named.
func TopRefaulting(cgs []MemCgroup, n int) []*MemCgroup {
	var out []*MemCgroup
	for i := range cgs {
		c := &cgs[i]
		r := c.RefaultPerS()
		if c.Path == "/" || !r.OK || r.V <= 0 {
			continue
		}
		explained := false
		for j := range cgs {
			d := &cgs[j]
			if j != i && isDescendant(d.Path, c.Path) && d.RefaultPerS().Or(0) >= 0.9*r.V {
				explained = true
				break
			}
		}
		if !explained {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *MemCgroup) int {
		if c := cmp.Compare(b.RefaultPerS().V, a.RefaultPerS().V); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// isDescendant reports whether cgroup path d is below cgroup path a.
func isDescendant(d, a string) bool {
	if a == "/" {
		return d != "/" && strings.HasPrefix(d, "/")
	}
	return strings.HasPrefix(d, a+"/")
}
