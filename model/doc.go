// Package model holds what vitals knows about the system: one Sample of every
// metric, fixed-capacity history per metric, and the counter/rate math that
// turns raw kernel counters into per-second figures.
//
// It does no I/O and imports no terminal, procfs or eBPF package, so probes,
// the UI, the JSON snapshot and (later) recordings can all share it and it can
// be tested with plain values.
package model
