package ebpf

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// On our kernels (shared/notes/ebpf.md) fentry refuses to load and kprobes
// do not attach; tp_btf is the first tier that works.
func TestCacheStatTierReport(t *testing.T) {
	requirePrivileged(t)
	c, rep, err := OpenCacheStat(nil, CacheStatOptions{})
	if err != nil {
		t.Fatalf("no tier loaded:\n%s", rep)
	}
	defer c.Close()
	t.Logf("\n%s", rep)
	if !rep.EBPF() || c.Tier() != rep.Tier || rep.Name != "cachestat" {
		t.Fatalf("report %+v, CacheStat says %q", rep, c.Tier())
	}
	if len(rep.Tiers) != len(CacheStatFeature().Tiers) {
		t.Fatalf("report lists %d tiers, feature has %d", len(rep.Tiers), len(CacheStatFeature().Tiers))
	}
	for _, tr := range rep.Tiers {
		if tr.Status != model.TierActive && tr.Reason == "" {
			t.Errorf("tier %s: %s without a reason", tr.Tier, tr.Status)
		}
	}
}

func TestCacheStatForceEachTier(t *testing.T) {
	requirePrivileged(t)
	sess := NewSession()
	for _, tier := range CacheStatFeature().Tiers {
		t.Run(tier.Name, func(t *testing.T) {
			c, rep, err := OpenCacheStat(sess, CacheStatOptions{LoadOptions{ForceTier: tier.Name}})
			t.Logf("\n%s", rep)
			if err != nil {
				// Production kernels load these; ours must say why not.
				if tier.Name == TierFentry || tier.Name == TierKprobe {
					if reason := rep.Tiers[indexOfTier(rep, tier.Name)].Reason; reason == "" {
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
				if tr.Tier != tier.Name && tr.Status != model.TierSkipped {
					t.Errorf("tier %s: %s, want skipped", tr.Tier, tr.Status)
				}
			}
		})
	}
}

func indexOfTier(rep model.Feature, name string) int {
	for i, tr := range rep.Tiers {
		if tr.Tier == name {
			return i
		}
	}
	return -1
}

func TestLoadUnknownTier(t *testing.T) {
	_, rep, err := OpenCacheStat(nil, CacheStatOptions{LoadOptions{ForceTier: "uprobe"}})
	if err == nil || !strings.Contains(rep.Reason, `unknown tier "uprobe"`) {
		t.Fatalf("err %v, reason %q", err, rep.Reason)
	}
}

// Two loads through one session decode the kernel's BTF once and share one
// btf.Cache: the spec the second load used is the first one's.
func TestSessionSharesKernelBTF(t *testing.T) {
	requirePrivileged(t)
	sess := NewSession()
	if sess.Reason() != "" {
		t.Fatalf("session: %s", sess.Reason())
	}
	a, rep, err := OpenCacheStat(sess, CacheStatOptions{LoadOptions{ForceTier: TierTpBTF}})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	defer a.Close()
	first, err := sess.btf.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	// A second feature (here cachestat again, on another tier: its own
	// programs and maps) through the same session.
	b, rep, err := OpenCacheStat(sess, CacheStatOptions{LoadOptions{ForceTier: TierRawTp}})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
	defer b.Close()
	second, err := sess.btf.Kernel()
	if err != nil {
		t.Fatal(err)
	}
	if sess.kernelDecodes != 1 {
		t.Errorf("kernel BTF decoded %d times for two loads, want 1", sess.kernelDecodes)
	}
	if first != second || sess.kernel != first {
		t.Errorf("the loads used different kernel BTF specs (%p, %p, session %p)", first, second, sess.kernel)
	}
}

// An unprivileged session: every tier of every feature says what it needs,
// and nothing is tried.
func TestSessionUnprivileged(t *testing.T) {
	sess := newSession(func() bool { return false })
	if sess.Reason() != NeedsPrivilege {
		t.Fatalf("reason %q", sess.Reason())
	}
	l, rep := Load(sess, CacheStatFeature(), LoadOptions{})
	if l != nil {
		l.Close()
		t.Fatal("loaded through an unprivileged session")
	}
	checkAllNeedPrivilege(t, rep)
	if sess.kernelDecodes != 0 {
		t.Errorf("kernel BTF decoded %d times without privileges", sess.kernelDecodes)
	}
}

func checkAllNeedPrivilege(t *testing.T, rep model.Feature) {
	t.Helper()
	if rep.Reason != NeedsPrivilege || rep.EBPF() || len(rep.Tiers) != len(CacheStatFeature().Tiers) {
		t.Fatalf("report %+v", rep)
	}
	for _, tr := range rep.Tiers {
		if tr.Status != model.TierNotTried || tr.Reason != NeedsPrivilege {
			t.Errorf("tier %+v, want not tried: %s", tr, NeedsPrivilege)
		}
	}
}

// After Close, none of the programs, links or maps this process loaded
// exist in the kernel. Only their ids are looked up: what else runs on the
// machine (another vitals as root) does not matter.
func TestCacheStatCloseReleasesEverything(t *testing.T) {
	requirePrivileged(t)
	sess := NewSession()
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		t.Run(tier, func(t *testing.T) {
			c, rep, err := OpenCacheStat(sess, CacheStatOptions{LoadOptions{ForceTier: tier}})
			if err != nil {
				t.Fatalf("%v\n%s", err, rep)
			}
			progs, maps := c.ProgramIDs(), c.MapIDs()
			if want := len(CacheStatFeature().Tiers[indexOfTier(rep, tier)].Programs); len(progs) != want {
				t.Fatalf("%d program ids, the tier has %d programs", len(progs), want)
			}
			ebpftest.Loaded(t, progs)
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil { // idempotent
				t.Fatal(err)
			}
			ebpftest.WaitReleased(t, progs, maps)
		})
	}
}

// Without privileges every tier says what it needs. As root the test runs
// a copy of itself as nobody.
func TestCacheStatNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		if Privileged() {
			t.Skip("privileged without being root")
		}
		_, rep, err := OpenCacheStat(nil, CacheStatOptions{})
		if err == nil {
			t.Fatal("loaded without privileges")
		}
		checkAllNeedPrivilege(t, rep)
		return
	}
	out := ebpftest.RunAsNobody(t, "open")
	var rep model.Feature
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	checkAllNeedPrivilege(t, rep)
}
