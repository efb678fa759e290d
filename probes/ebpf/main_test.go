package ebpf

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

func TestMain(m *testing.M) {
	ebpftest.Main(m, map[string]ebpftest.Action{
		// open: try to open cachestat as this (unprivileged) user and
		// print the feature report as JSON.
		"open": func(string) error {
			_, rep, err := OpenCacheStat(NewSession(), CacheStatOptions{})
			if err == nil {
				return fmt.Errorf("loaded without privileges")
			}
			return json.NewEncoder(os.Stdout).Encode(rep)
		},
		// pidns:PATH: cachestat inside a new PID namespace.
		"pidns": pidnsChild,
		// pidns-iter: the task iterator inside a new PID namespace.
		"pidns-iter": pidnsIterChild,
		// pidns-events: procevents inside a new PID namespace.
		"pidns-events": pidnsEventsChild,
	})
}

// requirePrivileged skips without root, except in CI, where the eBPF tests
// must run: a skip there would hide a broken probe.
func requirePrivileged(t testing.TB) {
	t.Helper()
	ebpftest.RequirePrivileged(t, Privileged())
}
