package model

import (
	"slices"
	"sync/atomic"
)

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
	// All asks for every detail of every process: the user sorts by a
	// detail column (PSS, USS, swap), or a snapshot wants everything. It
	// implies IO.
	All bool
	// IO asks for /proc/PID/io rates (Process.ProcessIO) of every process
	// that ran: the page-cache estimate without eBPF (the Cache tab) and
	// the Disk tab need them. About 2 µs per process that ran.
	IO bool
	// Slab asks for the slab caches (/proc/slabinfo, about 1 ms to parse).
	Slab bool
	// RunQLatPerCPU asks for a run-queue latency histogram per CPU.
	RunQLatPerCPU bool
	// RunQLatProcesses asks for the per-process run-queue waits of the
	// runqlat hooks (a walk of every task); All implies it.
	RunQLatProcesses bool
	// FilesOf asks for the page-cache residency of this process's open
	// files (pcstat); zero PID = none.
	FilesOf ProcKey
	// Sockets asks for the listening sockets and connections with their
	// owning processes (a walk of every /proc/PID/fd, done at most every
	// few seconds while asked).
	Sockets bool
}

// WantsRunQLatProcesses reports whether per-process run-queue waits are
// asked for.
func (s DemandSet) WantsRunQLatProcesses() bool { return s.RunQLatProcesses || s.All }

// WantsIO reports whether per-process I/O is asked for.
func (s DemandSet) WantsIO() bool { return s.IO || s.All }

// Equal reports whether two sets ask for the same things, so a publisher
// can skip re-publishing an unchanged set without listing its fields.
func (s DemandSet) Equal(o DemandSet) bool {
	return s.All == o.All && s.IO == o.IO && s.Slab == o.Slab && s.Sockets == o.Sockets && s.FilesOf == o.FilesOf && slices.Equal(s.Keys, o.Keys)
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
