package probes

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

func TestMain(m *testing.M) {
	actions := map[string]ebpftest.Action{
		// nonroot: run every registered probe as this (unprivileged) user
		// through the collector, as vitals does, with the Cache tab's
		// demand (I/O), read our own executable and print what the cache
		// part says about us.
		"nonroot": func(string) error {
			host, err := ReadHost("/proc")
			if err != nil {
				return err
			}
			env := &Env{ProcRoot: "/proc", SysRoot: "/sys", CgroupRoot: "/sys/fs/cgroup", PasswdPath: "/etc/passwd",
				Host: host, Demand: &model.Demand{}, BPF: ebpf.NewSession()}
			env.Demand.Set(model.DemandSet{IO: true})
			ps, err := Open(env)
			if err != nil {
				return err
			}
			store := model.NewStore(host, 0.5, 10)
			c := NewCollector(store, 500*time.Millisecond, ps, nil, nil)
			c.SetBudget(time.Minute) // correctness, not timing: a loaded machine must not make the scan stale
			defer c.Close()
			c.Frame(time.Now())
			if cache := store.Snapshot().Sample.Cache; cache != nil {
				return fmt.Errorf("baseline published a cache part: %+v", cache)
			}
			// Read our own executable: our rchar grows, so our row shows.
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			if err := ebpftest.ReadFile(exe, 1<<20); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			c.Frame(time.Now())
			s := store.Snapshot().Sample
			cache := s.Cache
			if cache == nil {
				return fmt.Errorf("read: no cache part (probes %+v)", s.Probes)
			}
			own := "none"
			for _, r := range cache.Processes {
				if r.PID == int32(os.Getpid()) {
					own = fmt.Sprintf("hits=%d misses=%d readhit=%v estimate=%v user=%s", r.Hits, r.Misses, r.ReadHitPct, r.Estimate, r.User)
				}
			}
			// Another user's process (pid 1): its I/O is not readable, so
			// its page-cache figures are unknown, not zero.
			init := "absent"
			for _, p := range s.Processes {
				if p.PID == 1 {
					init = fmt.Sprintf("io=%s hits_known=%v", p.IODetail, p.CacheHits.OK)
				}
			}
			fmt.Printf("source=%s\ntier=%s\nreason=%s\nsystem=%v\nown=%s\ninit=%s\n", cache.Source, cache.Tier, cache.Reason, cache.System != nil, own, init)
			return nil
		},
	}
	for _, extra := range []map[string]ebpftest.Action{keventActions, childActions} {
		for name, a := range extra {
			actions[name] = a
		}
	}
	ebpftest.Main(m, actions)
}

// childActions are more workload children, added by test files in init
// (process_iter_test.go).
var childActions = map[string]ebpftest.Action{}
