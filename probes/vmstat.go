package probes

import (
	"bytes"
	"fmt"
	"syscall"
)

// vmCounter names one /proc/vmstat event counter the memory probe uses.
type vmCounter int

const (
	vmPswpin vmCounter = iota
	vmPswpout
	vmPgpgin
	vmPgpgout
	vmPgfault
	vmPgmajfault
	vmPgscanKswapd
	vmPgscanDirect
	vmPgstealKswapd
	vmPgstealDirect
	vmRefaultAnon
	vmRefaultFile
	vmOOMKill
	// All reclaim, whoever did it: pgscan_anon + pgscan_file (5.8+). The
	// kernel leaves reclaim forced by a cgroup's memory limit out of the
	// kswapd/direct counters and counts it only here.
	vmPgscanAll
	vmPgstealAll
	vmCounterCount
)

// vmCounterNames are the kernel's names, indexed by vmCounter.
var vmCounterNames = [vmCounterCount]string{
	vmPswpin:        "pswpin",
	vmPswpout:       "pswpout",
	vmPgpgin:        "pgpgin",
	vmPgpgout:       "pgpgout",
	vmPgfault:       "pgfault",
	vmPgmajfault:    "pgmajfault",
	vmPgscanKswapd:  "pgscan_kswapd",
	vmPgscanDirect:  "pgscan_direct",
	vmPgstealKswapd: "pgsteal_kswapd",
	vmPgstealDirect: "pgsteal_direct",
	vmRefaultAnon:   "workingset_refault_anon",
	vmRefaultFile:   "workingset_refault_file",
	vmOOMKill:       "oom_kill",
	vmPgscanAll:     "pgscan_anon+pgscan_file",
	vmPgstealAll:    "pgsteal_anon+pgsteal_file",
}

// vmstatCounters holds the counters of one read of /proc/vmstat. A counter
// the kernel does not have is absent (has is false), never 0.
type vmstatCounters struct {
	v   [vmCounterCount]uint64
	has [vmCounterCount]bool
}

// get returns a counter and whether the kernel reported it.
func (c *vmstatCounters) get(k vmCounter) (uint64, bool) { return c.v[k], c.has[k] }

func (c *vmstatCounters) set(k vmCounter, v uint64) {
	c.v[k] = v
	c.has[k] = true
}

// vmZoneSuffixes are the zone names older kernels (before 4.8, when reclaim
// became per node) appended to pgscan_*/pgsteal_* ("pgscan_direct_normal").
// pgscan_direct_throttle is not a zone and must not be summed.
var vmZoneSuffixes = [...]string{"dma", "dma32", "normal", "high", "movable", "device"}

// parseVmstat parses /proc/vmstat ("name value" per line) into c without
// allocating. Lines it does not need, or cannot parse, are skipped: a
// counter it cannot read is reported as missing rather than failing the
// whole file.
//
// Older kernels differ in two ways handled here: reclaim counters split per
// zone (summed when the unsplit counter is absent), and a single
// workingset_refault (before 5.9, when anon pages joined the workingset
// code) that then counted file pages only.
func parseVmstat(data []byte, c *vmstatCounters) {
	*c = vmstatCounters{}
	var zoned vmstatCounters // per-zone sums of the reclaim counters
	var refault uint64
	hasRefault := false
	var scanAll, stealAll uint64
	scanParts, stealParts := 0, 0
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		sp := bytes.IndexByte(line, ' ')
		if sp <= 0 {
			continue
		}
		name := line[:sp]
		v, ok := parseDecimal(bytes.TrimSpace(line[sp+1:]))
		if !ok {
			continue
		}
		// A switch on string(b) compiles to comparisons without allocating.
		switch string(name) {
		case "pswpin":
			c.set(vmPswpin, v)
		case "pswpout":
			c.set(vmPswpout, v)
		case "pgpgin":
			c.set(vmPgpgin, v)
		case "pgpgout":
			c.set(vmPgpgout, v)
		case "pgfault":
			c.set(vmPgfault, v)
		case "pgmajfault":
			c.set(vmPgmajfault, v)
		case "pgscan_kswapd":
			c.set(vmPgscanKswapd, v)
		case "pgscan_direct":
			c.set(vmPgscanDirect, v)
		case "pgsteal_kswapd":
			c.set(vmPgstealKswapd, v)
		case "pgsteal_direct":
			c.set(vmPgstealDirect, v)
		case "workingset_refault_anon":
			c.set(vmRefaultAnon, v)
		case "workingset_refault_file":
			c.set(vmRefaultFile, v)
		case "workingset_refault":
			refault, hasRefault = v, true
		case "oom_kill":
			c.set(vmOOMKill, v)
		case "pgscan_anon", "pgscan_file":
			scanAll += v
			scanParts++
		case "pgsteal_anon", "pgsteal_file":
			stealAll += v
			stealParts++
		default:
			if k, ok := zonedReclaimCounter(name); ok {
				zoned.set(k, zoned.v[k]+v)
			}
		}
	}
	for _, k := range [...]vmCounter{vmPgscanKswapd, vmPgscanDirect, vmPgstealKswapd, vmPgstealDirect} {
		if !c.has[k] && zoned.has[k] {
			c.set(k, zoned.v[k])
		}
	}
	if !c.has[vmRefaultFile] && hasRefault {
		c.set(vmRefaultFile, refault)
	}
	if scanParts == 2 {
		c.set(vmPgscanAll, scanAll)
	}
	if stealParts == 2 {
		c.set(vmPgstealAll, stealAll)
	}
}

// zonedReclaimCounter recognises a per-zone reclaim counter of an older
// kernel ("pgsteal_kswapd_dma32") and says which counter it is part of.
func zonedReclaimCounter(name []byte) (vmCounter, bool) {
	for _, k := range [...]vmCounter{vmPgscanKswapd, vmPgscanDirect, vmPgstealKswapd, vmPgstealDirect} {
		prefix := vmCounterNames[k]
		if len(name) <= len(prefix)+1 || string(name[:len(prefix)]) != prefix || name[len(prefix)] != '_' {
			continue
		}
		zone := name[len(prefix)+1:]
		for _, z := range vmZoneSuffixes {
			if string(zone) == z {
				return k, true
			}
		}
		return 0, false
	}
	return 0, false
}

// vmstatReader reads /proc/vmstat into a buffer it keeps between reads.
type vmstatReader struct {
	path string
	buf  []byte
}

func newVmstatReader(path string) *vmstatReader {
	return &vmstatReader{path: path, buf: make([]byte, 8192)}
}

// read reads and parses the file into c.
func (r *vmstatReader) read(c *vmstatCounters) error {
	data, err := r.readFile()
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	parseVmstat(data, c)
	return nil
}

// readFile reads the whole file into the reused buffer, growing it when the
// file does not fit (today's /proc/vmstat is about 5 KiB).
func (r *vmstatReader) readFile() ([]byte, error) {
	fd, err := syscall.Open(r.path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(r.buf) {
			r.buf = append(r.buf, make([]byte, len(r.buf))...)
		}
		m, err := syscall.Read(fd, r.buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return r.buf[:n], nil
		}
		n += m
	}
}
