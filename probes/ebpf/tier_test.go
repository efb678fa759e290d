package ebpf

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// On our kernels (shared/notes/ebpf.md) fentry refuses to load and kprobes
// do not attach; tp_btf is the first tier that works.
func TestCacheStatTierReport(t *testing.T) {
	requirePrivileged(t)
	c, rep, err := OpenCacheStat(CacheStatOptions{})
	if err != nil {
		t.Fatalf("no tier loaded:\n%s", rep)
	}
	defer c.Close()
	t.Logf("\n%s", rep)
	if rep.Active == "" || c.Tier() != rep.Active {
		t.Fatalf("active tier %q, CacheStat says %q", rep.Active, c.Tier())
	}
	if len(rep.Tiers) != len(CacheStatFeature().Tiers) {
		t.Fatalf("report lists %d tiers, feature has %d", len(rep.Tiers), len(CacheStatFeature().Tiers))
	}
	for _, tr := range rep.Tiers {
		if tr.Status != "active" && tr.Reason == "" {
			t.Errorf("tier %s: %s without a reason", tr.Tier, tr.Status)
		}
	}
}

func TestCacheStatForceEachTier(t *testing.T) {
	requirePrivileged(t)
	for _, tier := range CacheStatFeature().Tiers {
		t.Run(tier.Name, func(t *testing.T) {
			c, rep, err := OpenCacheStat(CacheStatOptions{LoadOptions{ForceTier: tier.Name}})
			t.Logf("\n%s", rep)
			if err != nil {
				// Production kernels load these; ours must say why not.
				if tier.Name == TierFentry || tier.Name == TierKprobe {
					reason := rep.Tiers[indexOfTier(rep, tier.Name)].Reason
					if reason == "" {
						t.Fatalf("%s failed without a reason", tier.Name)
					}
					return
				}
				t.Fatalf("tier %s does not load: %v", tier.Name, err)
			}
			defer c.Close()
			if c.Tier() != tier.Name {
				t.Fatalf("forced %s, got %s", tier.Name, c.Tier())
			}
			for _, tr := range rep.Tiers {
				if tr.Tier != tier.Name && tr.Status != "skipped" {
					t.Errorf("tier %s: %s, want skipped", tr.Tier, tr.Status)
				}
			}
		})
	}
}

func indexOfTier(rep Report, name string) int {
	for i, tr := range rep.Tiers {
		if tr.Tier == name {
			return i
		}
	}
	return -1
}

func TestLoadUnknownTier(t *testing.T) {
	_, rep, err := OpenCacheStat(CacheStatOptions{LoadOptions{ForceTier: "uprobe"}})
	if err == nil || !strings.Contains(rep.Reason, `unknown tier "uprobe"`) {
		t.Fatalf("err %v, reason %q", err, rep.Reason)
	}
}

// After Close, none of the programs, links or maps exist in the kernel.
func TestCacheStatCloseReleasesEverything(t *testing.T) {
	requirePrivileged(t)
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			c, rep, err := OpenCacheStat(CacheStatOptions{LoadOptions{ForceTier: tier}})
			if err != nil {
				t.Fatalf("%v\n%s", err, rep)
			}
			var progIDs []ebpf.ProgramID
			for name, p := range c.loaded.Programs {
				info, err := p.Info()
				if err != nil {
					t.Fatal(err)
				}
				id, ok := info.ID()
				if !ok {
					t.Fatalf("no id for %s", name)
				}
				progIDs = append(progIDs, id)
			}
			var mapIDs []ebpf.MapID
			for _, m := range c.loaded.Maps {
				info, err := m.Info()
				if err != nil {
					t.Fatal(err)
				}
				id, _ := info.ID()
				mapIDs = append(mapIDs, id)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil { // idempotent
				t.Fatal(err)
			}
			// The kernel frees programs and maps after an RCU grace period.
			deadline := time.Now().Add(5 * time.Second)
			for {
				alive := 0
				for _, id := range progIDs {
					if p, err := ebpf.NewProgramFromID(id); err == nil {
						p.Close()
						alive++
					} else if !errors.Is(err, os.ErrNotExist) {
						t.Fatal(err)
					}
				}
				for _, id := range mapIDs {
					if m, err := ebpf.NewMapFromID(id); err == nil {
						m.Close()
						alive++
					}
				}
				if alive == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d programs or maps still loaded after Close", alive)
				}
				time.Sleep(20 * time.Millisecond)
			}
			// And as an operator would check it.
			if out, err := exec.Command("bpftool", "prog", "list").Output(); err == nil {
				for _, name := range CacheStatFeature().Tiers[indexOfTierIn(tier)].Programs {
					// The kernel keeps 15 characters of a program name.
					if short := name[:min(len(name), 15)]; strings.Contains(string(out), " name "+short+" ") {
						t.Errorf("bpftool prog list still shows %s", short)
					}
				}
			}
		})
	}
}

func indexOfTierIn(name string) int {
	for i, t := range CacheStatFeature().Tiers {
		if t.Name == name {
			return i
		}
	}
	return -1
}

// Without privileges every eBPF feature says what it needs.
func TestCacheStatNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		_, rep, err := OpenCacheStat(CacheStatOptions{})
		if Privileged() {
			t.Skip("privileged without being root")
		}
		if err == nil || rep.Reason != NeedsPrivilege {
			t.Fatalf("err %v, reason %q", err, rep.Reason)
		}
		return
	}
	// As root: run a copy of the test binary as nobody.
	dir, err := os.MkdirTemp("", "vitals-ebpf-nobody")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ebpf.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=open")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if string(out) != NeedsPrivilege {
		t.Fatalf("reason %q, want %q", out, NeedsPrivilege)
	}
}
