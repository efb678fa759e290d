package model

// Feature is one eBPF feature's report: which attach tier is active and why
// each other tier is not. Every feature (page cache, and later disk, net,
// kernel events) reports in this one shape.
type Feature struct {
	Name string `json:"name"`
	// Tier is the active tier (fentry, kprobe, tp_btf, raw_tp,
	// tracepoint), or "procfs" when the procfs fallback runs.
	Tier  string        `json:"tier"`
	Tiers []TierOutcome `json:"tiers"`
	// Reason is why no eBPF tier runs (not root, none loaded); empty when
	// one does.
	Reason string `json:"reason,omitempty"`
}

// TierOutcome is one attach tier's outcome.
type TierOutcome struct {
	Tier string `json:"tier"`
	// Status is "active", "failed", "not tried" or "skipped".
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}
