package model

import "sync/atomic"

// Demand is the one signal that flows against the data: which processes
// the user is looking at, so that probes can read costly per-process
// details (smaps_rollup: ~30 µs each) only for those. The UI sets it; the
// process scanner reads it once per scan.
type Demand struct {
	p atomic.Pointer[DemandSet]
}

// DemandSet is what is wanted now.
type DemandSet struct {
	// Keys are the processes on screen (and the selected one).
	Keys []ProcKey
	// All asks for every process: the user sorts by a detail column
	// (PSS, USS, swap), which needs the value of every row.
	All bool
	// Slab asks for the slab caches (/proc/slabinfo, about 1 ms to parse).
	Slab bool
	// RunQLatPerCPU asks for a run-queue latency histogram per CPU.
	RunQLatPerCPU bool
	// FilesOf asks for the page-cache residency of this process's open
	// files (pcstat); zero PID = none.
	FilesOf ProcKey
}

// Set replaces the wanted set. The slice must not be modified afterwards.
func (d *Demand) Set(s DemandSet) { d.p.Store(&s) }

// Get returns the wanted set (empty if never set).
func (d *Demand) Get() DemandSet {
	if s := d.p.Load(); s != nil {
		return *s
	}
	return DemandSet{}
}
