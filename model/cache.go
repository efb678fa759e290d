package model

// Cache is the page-cache part of a Sample: bcc's cachestat (system) and
// cachetop (per process), counted in pages (4 KiB) over the interval.
//
// Definitions (docs/cache-tab.md): accessed = page-cache pages that reads
// asked for (de-duplicated per read and clamped to end of file); misses =
// pages added to the cache minus pages written (so writes are not read
// misses), clamped to [0, accessed]; hits = accessed − misses; dirtied =
// pages written into the cache. Not seen: hits through already-mapped
// pages (mmap), tmpfs and direct I/O.
type Cache struct {
	// Source is "ebpf" (counted in the kernel) or "procfs estimate" (not
	// root: 1 − Δread_bytes/Δrchar per process, no system line).
	Source string `json:"source"`
	// Tier is the eBPF attach tier in use (fentry, kprobe, tp_btf, raw_tp,
	// tracepoint), empty for the procfs estimate.
	Tier string `json:"tier"`
	// Tiers says, for each tier tried, why it is or is not in use.
	Tiers []CacheTier `json:"tiers"`
	// Reason is why eBPF is not in use (not root, no tier loaded).
	Reason string `json:"reason,omitempty"`

	// System is nil with the procfs estimate.
	System    *CacheSystem   `json:"system"`
	Processes []CacheProcess `json:"processes"`

	// Files is pcstat for one process (the one Demand.FilesOf names): its
	// open regular files and how much of each is in the page cache.
	Files *ProcessFiles `json:"files,omitempty"`
}

// ProcessFiles is the page-cache residency of one process's open files.
type ProcessFiles struct {
	PID        int32  `json:"pid"`
	StartTicks uint64 `json:"start_ticks"`
	// Method is "cachestat" (the cachestat(2) syscall, Linux 6.5+) or
	// "mincore" (mapping each file to ask, older kernels).
	Method string          `json:"method"`
	Files  []FileResidency `json:"files"`
	// Reason says why the list is empty or partial (not permitted, the
	// process exited).
	Reason string `json:"reason,omitempty"`
}

// FileResidency is one open regular file: its size and how many of its
// pages are in the page cache (and of those, dirty).
type FileResidency struct {
	// Path is untrusted text (file names may hold any byte but / and NUL).
	Path        string `json:"path"`
	SizeBytes   uint64 `json:"size_bytes"`
	Pages       uint64 `json:"pages"`
	CachedPages uint64 `json:"cached_pages"`
	DirtyPages  uint64 `json:"dirty_pages"`
}

// CacheTier is one attach tier's outcome.
type CacheTier struct {
	Tier   string `json:"tier"`
	Status string `json:"status"` // active, failed, not tried, skipped
	Reason string `json:"reason,omitempty"`
}

// CacheSystem is cachestat's line: per-second rates in pages.
type CacheSystem struct {
	AccessesPerS float64 `json:"accesses"`
	HitsPerS     float64 `json:"hits"`
	MissesPerS   float64 `json:"misses"`
	DirtiesPerS  float64 `json:"dirties"`
	// HitRatio is hits / accesses in percent; unknown when nothing was read.
	HitRatio     Float  `json:"hit_ratio"`
	BuffersBytes uint64 `json:"buffers_bytes"`
	CachedBytes  uint64 `json:"cached_bytes"`
}

// CacheProcess is one cachetop row: pages over the interval.
type CacheProcess struct {
	PID  int32  `json:"pid"`
	UID  uint32 `json:"uid"`
	User string `json:"user"`
	// Comm is untrusted text.
	Comm    string `json:"comm"`
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Dirties uint64 `json:"dirties"`
	// ReadHitPct is hits / accesses; WriteHitPct is the share of written
	// pages that were already cached (dirtied minus those added by the
	// writes, over dirtied). Unknown when there was nothing to divide.
	ReadHitPct  Float `json:"read_hit_pct"`
	WriteHitPct Float `json:"write_hit_pct"`
	// Estimate marks the procfs estimate (1 − Δread_bytes/Δrchar).
	Estimate bool `json:"estimate,omitempty"`
}
