package model

import (
	"cmp"
	"math"
	"slices"
)

// CacheSourceEstimate is Cache.Source for the procfs estimate.
const CacheSourceEstimate = "procfs estimate"

// cachePageSize is the unit of every page count in Cache (4 KiB, whatever
// the machine's page size).
const cachePageSize = 4096

// JoinFrame derives what one frame's parts say together, once every probe's
// part is in: the page-cache estimate from the scanner's I/O rates and each
// process's page-cache part, matched by ProcKey (pid and start time) so a
// reused pid never inherits another process's counts. Store.Publish calls
// it, so a replay joins recorded samples through the same code.
func JoinFrame(s *Sample) {
	joinProcessNet(s)
	joinProcessDisk(s)
	if s.Cache == nil {
		return
	}
	c := *s.Cache // the cache part may be carried over (published): copy
	if c.Source == CacheSourceEstimate {
		c.Processes = nil
		if st := s.Probe("process"); s.Processes != nil && (st == nil || !st.Stale) {
			window := 0.0
			if st != nil {
				window = st.WindowS.Or(0)
			}
			if window == 0 {
				window = s.IntervalS
			}
			c.Processes = CacheEstimate(s.Processes, window)
		}
	}
	if c.System != nil {
		sys := *c.System
		sys.BuffersBytes, sys.CachedBytes = Unknown, Unknown
		if m := s.Memory; m != nil {
			sys.BuffersBytes, sys.CachedBytes = Known(float64(m.BuffersBytes)), Known(float64(m.PageCacheBytes))
		}
		c.System = &sys
	}
	s.Cache = &c
	if st := s.Probe("process"); st != nil && st.Stale && s.Processes != nil {
		// Carried over from an earlier frame, so published and shared:
		// join into a copy.
		s.Processes = slices.Clone(s.Processes)
	}
	joinProcessCache(s.Processes, c.Processes, c.Source != CacheSourceEstimate)
}

// joinProcessCache fills each process's page-cache part from the cache
// rows of the same identity. procs is this frame's fresh slice (the
// scanner's part), owned by the frame being built. Counted in the kernel
// (complete), a process without a row touched no page-cache page: zero.
// Estimated, a process without a row read nothing if its I/O was read,
// and is unknown otherwise.
func joinProcessCache(procs []Process, rows []CacheProcess, complete bool) {
	if len(procs) == 0 {
		return
	}
	byKey := make(map[ProcKey]int, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.StartTicks == 0 {
			continue // identity unknown: joining by pid alone could be wrong
		}
		byKey[ProcKey{PID: r.PID, StartTicks: r.StartTicks}] = i
	}
	for i := range procs {
		p := &procs[i]
		if j, ok := byKey[p.Key()]; ok {
			r := &rows[j]
			p.ProcessCacheRates = ProcessCacheRates{
				CacheHits: Known(float64(r.Hits)), CacheMisses: Known(float64(r.Misses)),
				CacheReadHitPct: r.ReadHitPct,
			}
		} else if complete || p.IODetail == DetailFresh {
			p.ProcessCacheRates = ProcessCacheRates{CacheHits: Known(0), CacheMisses: Known(0)}
		} else {
			p.ProcessCacheRates = ProcessCacheRates{}
		}
	}
}

// CacheEstimate is the page-cache hit ratio per process without eBPF: the
// share of bytes read() returned (rchar) that did not come from the block
// layer (read_bytes), 1 − Δread_bytes/Δrchar. rchar also counts reads from
// pipes, sockets and tmpfs, and read_bytes counts readahead and page
// faults of mapped files, so it is an estimate only. Page counts are the
// rates times seconds (the scanner's window). Processes that read nothing,
// or whose I/O is unknown (not read, or not permitted), have no row.
func CacheEstimate(procs []Process, seconds float64) []CacheProcess {
	var rows []CacheProcess
	for i := range procs {
		pr := &procs[i]
		rchar, read := pr.RcharPerS, pr.ReadBytesPerS
		if pr.IODetail != DetailFresh || !rchar.OK || !read.OK || rchar.V <= 0 {
			continue
		}
		bytesIn := func(rate float64) uint64 { return uint64(math.Round(rate * seconds)) }
		accessed := bytesIn(rchar.V) / cachePageSize
		misses := min(bytesIn(read.V)/cachePageSize, accessed)
		row := CacheProcess{
			PID:         pr.PID,
			StartTicks:  pr.StartTicks,
			UID:         pr.UID,
			User:        pr.User,
			Comm:        pr.Comm,
			Hits:        accessed - misses,
			Misses:      misses,
			ReadHitPct:  Known(100 * (1 - min(read.V/rchar.V, 1))),
			WriteHitPct: Unknown,
			Estimate:    true,
		}
		if w := pr.WriteBytesPerS; w.OK {
			row.Dirties = bytesIn(w.V) / cachePageSize
		}
		rows = append(rows, row)
	}
	SortCacheProcesses(rows)
	return rows
}

// SortCacheProcesses orders rows as cachetop does: most hits first.
func SortCacheProcesses(ps []CacheProcess) {
	slices.SortFunc(ps, func(a, b CacheProcess) int {
		if c := cmp.Compare(b.Hits, a.Hits); c != 0 {
			return c
		}
		return cmp.Compare(a.PID, b.PID)
	})
}
