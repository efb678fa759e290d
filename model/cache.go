package model

// Cache is the page-cache part of a Sample: bcc's cachestat (system) and
// cachetop (per process), counted in pages (4 KiB) over the interval.
//
// Definitions (docs/cache-tab.md): accessed = page-cache pages that reads
// asked for (de-duplicated per read and clamped to end of file); misses =
// pages added to the cache minus pages written (so writes are not read
// misses), clamped to [0, accessed]; hits = accessed − misses; dirtied =
// pages written into the cache; mmap pages = pages a process mapped in by
// page faults (a lower bound with large folios), mmap misses = pages added
// to the cache inside its faults. The system line is the sum of the process
// rows. Not seen: accesses through pages already mapped (they never fault),
// tmpfs and direct I/O.
type Cache struct {
	// Source is "ebpf" (counted in the kernel) or "procfs estimate" (not
	// root: 1 − Δread_bytes/Δrchar per process, no system line).
	Source string `json:"source"`
	// Feature is the cachestat feature's tier report, inline: tier (the
	// eBPF tier in use, "procfs" for the estimate), tiers, reason.
	Feature

	// System is nil with the procfs estimate.
	System    *CacheSystem   `json:"system"`
	Processes []CacheProcess `json:"processes"`
	// DroppedProcEvents counts page-cache events in the interval whose
	// process found no room in the kernel's per-process map (16,384
	// processes): they are in no row and so not in the system line.
	DroppedProcEvents uint64 `json:"dropped_proc_events"`
	// Unattributed is what the kernel counted for no row: the pages of
	// those dropped events, and of processes outside the PID namespace of
	// the /proc vitals reads (they have no pid there). Both are in the
	// system line. Nil with the procfs estimate.
	Unattributed *CacheUnattributed `json:"unattributed_pages"`

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

// CacheSystem is cachestat's line: per-second rates in pages, summed over
// the process rows (each clamped on its own, so one process's readahead or
// mmap faults never count as misses of another's reads).
type CacheSystem struct {
	CachePageRates
	// HitRatio is hits / accesses in percent; unknown when nothing was read.
	HitRatio Float `json:"hit_ratio"`
	// Buffers and Cached of /proc/meminfo, joined from this frame's memory
	// part (JoinFrame); unknown when the memory probe has none.
	BuffersBytes Float `json:"buffers_bytes"`
	CachedBytes  Float `json:"cached_bytes"`
}

// UnattributedOrNil is c.Unattributed, nil-safe.
func (c *Cache) UnattributedOrNil() *CacheUnattributed {
	if c == nil {
		return nil
	}
	return c.Unattributed
}

// CachePageRates are page-cache pages per second.
type CachePageRates struct {
	AccessesPerS float64 `json:"accesses"`
	HitsPerS     float64 `json:"hits"`
	MissesPerS   float64 `json:"misses"`
	DirtiesPerS  float64 `json:"dirties"`
	// MmapPagesPerS and MmapMissesPerS are mmap pages and mmap misses.
	MmapPagesPerS  float64 `json:"mmap_pages"`
	MmapMissesPerS float64 `json:"mmap_misses"`
}

// Add adds o to r.
func (r *CachePageRates) Add(o CachePageRates) {
	r.AccessesPerS += o.AccessesPerS
	r.HitsPerS += o.HitsPerS
	r.MissesPerS += o.MissesPerS
	r.DirtiesPerS += o.DirtiesPerS
	r.MmapPagesPerS += o.MmapPagesPerS
	r.MmapMissesPerS += o.MmapMissesPerS
}

// CacheUnattributed is page-cache activity that is in the system line but
// in no process row.
type CacheUnattributed struct {
	// MapFull is that of processes that found no room in the kernel's
	// per-process map (16,384 processes in one interval).
	MapFull CachePageRates `json:"map_full"`
	// OtherNamespaces is that of processes outside vitals' PID namespace.
	OtherNamespaces CachePageRates `json:"other_namespaces"`
	// AccessSharePct is their accesses as a share of the system line's,
	// in percent; unknown when nothing was read.
	AccessSharePct Float `json:"access_share_pct"`
}

// CacheProcess is one cachetop row: pages over the interval.
type CacheProcess struct {
	PID int32 `json:"pid"`
	// StartTicks is the process's start time in clock ticks after boot, as
	// field 22 of /proc/PID/stat: with PID it names the process, so a
	// reused pid is a different row. 0 when not known.
	StartTicks uint64 `json:"start_ticks"`
	UID        uint32 `json:"uid"`
	User       string `json:"user"`
	// Comm is untrusted text.
	Comm    string `json:"comm"`
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Dirties uint64 `json:"dirties"`
	// MmapPages is pages the process mapped in by page faults on files
	// (fault-around included); a lower bound where the kernel maps large
	// folios whole. MmapMisses is pages its page faults added to the page
	// cache, i.e. read from storage (their readahead included). Zero for
	// the procfs estimate, which cannot tell them apart.
	MmapPages  uint64 `json:"mmap_pages"`
	MmapMisses uint64 `json:"mmap_misses"`
	// ReadHitPct is hits / accesses; WriteHitPct is the share of written
	// pages that were already cached (dirtied minus those added by the
	// writes, over dirtied). Unknown when there was nothing to divide.
	ReadHitPct  Float `json:"read_hit_pct"`
	WriteHitPct Float `json:"write_hit_pct"`
	// Estimate marks the procfs estimate (1 − Δread_bytes/Δrchar).
	Estimate bool `json:"estimate,omitempty"`
}
