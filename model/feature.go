package model

import (
	"fmt"
	"strings"
)

// TierProcfs is Feature.Tier when no eBPF tier runs and the feature's procfs
// fallback (an estimate, or nothing) is what the numbers come from.
const TierProcfs = "procfs"

// Tier statuses, as TierOutcome.Status says them.
const (
	TierActive   = "active"
	TierFailed   = "failed"
	TierNotTried = "not tried"
	TierSkipped  = "skipped"
)

// Feature is the report of one eBPF feature (cachestat, later disk, net,
// events): which attach tier runs and why each other tier does not. Every
// feature reports in this one shape so `vitals probes`, the header's mode
// line and the JSON read them alike.
type Feature struct {
	Name string `json:"name"`
	// Tier is the active eBPF tier (fentry, kprobe, tp_btf, raw_tp,
	// tracepoint), or TierProcfs when the procfs fallback runs.
	Tier string `json:"tier"`
	// Tiers has one entry per eBPF tier of the feature, fastest first.
	Tiers []TierOutcome `json:"tiers"`
	// Reason is why no eBPF tier runs (no privileges, nothing loaded,
	// forced to procfs); empty when one does.
	Reason string `json:"reason,omitempty"`
	// Fallback names what the feature reads when no eBPF tier runs, when
	// that is not procfs ("kernel log (/dev/kmsg)"), and is empty else.
	Fallback string `json:"fallback,omitempty"`
}

// TierOutcome is what happened to one attach tier.
type TierOutcome struct {
	Tier   string `json:"tier"`
	Status string `json:"status"` // TierActive, TierFailed, TierNotTried, TierSkipped
	// Reason says why the tier failed or was not tried; empty when active.
	Reason string `json:"reason,omitempty"`
}

// EBPF reports whether an eBPF tier is active.
func (f Feature) EBPF() bool { return f.Tier != "" && f.Tier != TierProcfs }

// String renders the report on a few lines, as `vitals probes` prints it.
func (f Feature) String() string {
	var b strings.Builder
	switch {
	case f.EBPF():
		fmt.Fprintf(&b, "%s: %s", f.Name, f.Tier)
	case f.Tier == TierProcfs && f.Fallback != "":
		fmt.Fprintf(&b, "%s: %s (%s)", f.Name, f.Fallback, f.Reason)
	case f.Tier == TierProcfs:
		fmt.Fprintf(&b, "%s: procfs (%s)", f.Name, f.Reason)
	default:
		fmt.Fprintf(&b, "%s: none: %s", f.Name, f.Reason)
	}
	for _, t := range f.Tiers {
		if t.Status == TierActive {
			fmt.Fprintf(&b, "\n  %s: active", t.Tier)
			continue
		}
		fmt.Fprintf(&b, "\n  %s: %s", t.Tier, t.Reason)
	}
	return b.String()
}
