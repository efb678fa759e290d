package probes

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

func TestMain(m *testing.M) {
	actions := map[string]ebpftest.Action{
		// nonroot: open a cache probe as this (unprivileged) user, read
		// our own executable and print what the probe runs on.
		"nonroot": func(string) error {
			p, err := NewCacheProbe(CacheProbeConfig{ProcRoot: "/proc", PasswdPath: "/etc/passwd"})
			if err != nil {
				return err
			}
			defer p.Close()
			if c, err := p.Read(time.Now()); c != nil || err != nil {
				return fmt.Errorf("baseline: %v %v", c, err)
			}
			// Read our own executable: our rchar grows, so our row shows.
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			if err := ebpftest.ReadFile(exe, 1<<20); err != nil {
				return err
			}
			c, err := p.Read(time.Now())
			if err != nil || c == nil {
				return fmt.Errorf("read: %v %v", c, err)
			}
			own := "none"
			for _, r := range c.Processes {
				if r.PID == int32(os.Getpid()) {
					own = fmt.Sprintf("hits=%d misses=%d readhit=%v estimate=%v user=%s", r.Hits, r.Misses, r.ReadHitPct, r.Estimate, r.User)
				}
			}
			fmt.Printf("source=%s\ntier=%s\nreason=%s\nsystem=%v\nown=%s\n", c.Source, c.Tier, c.Reason, c.System != nil, own)
			return nil
		},
	}
	for name, a := range keventActions { // kevents_live_test.go
		actions[name] = a
	}
	ebpftest.Main(m, actions)
}
