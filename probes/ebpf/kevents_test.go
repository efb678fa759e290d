package ebpf

import (
	"encoding/binary"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/vitals-dev/vitals/bpf/runqlat"
	"github.com/vitals-dev/vitals/model"
)

// The histogram slot logic, run in the kernel through test_record: a wait
// of d ns lands in slot 0 below 1 µs, slot i in [2^(i-1), 2^i) µs.
func TestRunQLatSlotsInKernel(t *testing.T) {
	requirePrivileged(t)
	spec, err := runqlat.LoadRunQLat()
	if err != nil {
		t.Fatal(err)
	}
	for name := range spec.Programs {
		if name != "test_record" {
			delete(spec.Programs, name)
		}
	}
	var objs struct {
		Prog  *ebpf.Program `ebpf:"test_record"`
		Hists *ebpf.Map     `ebpf:"hists"`
	}
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		t.Fatal(err)
	}
	defer objs.Prog.Close()
	defer objs.Hists.Close()
	cases := map[uint64]int{0: 0, 999: 0, 1000: 1, 1999: 1, 2000: 2, 3999: 2, 4000: 3, 1_000_000: 10, 1_024_000: 11, 1 << 62: model.RunQLatSlots - 1}
	for ns := range cases {
		ctx := make([]byte, 8)
		binary.NativeEndian.PutUint64(ctx, ns)
		if _, err := objs.Prog.Run(&ebpf.RunOptions{Context: ctx}); err != nil {
			t.Fatal(err)
		}
	}
	per := make([]runqlat.RunQLatHist, max(ebpf.MustPossibleCPU(), 1))
	if err := objs.Hists.Lookup(uint32(0), &per); err != nil {
		t.Fatal(err)
	}
	var sum runqlat.RunQLatHist
	for _, h := range per {
		for i := range h.Slots {
			sum.Slots[i] += h.Slots[i]
		}
		sum.Count += h.Count
	}
	want := make([]uint64, model.RunQLatSlots)
	for _, slot := range cases {
		want[slot]++
	}
	for i := range want {
		if sum.Slots[i] != want[i] {
			t.Errorf("slot %d (from %v µs): %d waits, want %d", i, model.RunQLatBucketsUs[i], sum.Slots[i], want[i])
		}
	}
	if sum.Count != uint64(len(cases)) {
		t.Errorf("count %d, want %d", sum.Count, len(cases))
	}
}

// Every tier of the three event features loads and attaches here except
// fentry (refused) and kprobe (no kprobes), each forced alone, and each
// failure has its reason.
func TestKernelEventTiersLoadHere(t *testing.T) {
	requirePrivileged(t)
	sess := NewSession()
	type opener func(tier string) (func() error, model.Feature, error)
	features := map[string]opener{
		"procevents": func(tier string) (func() error, model.Feature, error) {
			p, rep, err := OpenProcEvents(sess, LoadOptions{ForceTier: tier})
			return p.Close, rep, err
		},
		"oomkill": func(tier string) (func() error, model.Feature, error) {
			p, rep, err := OpenOOMKill(sess, LoadOptions{ForceTier: tier})
			return p.Close, rep, err
		},
		"runqlat": func(tier string) (func() error, model.Feature, error) {
			p, rep, err := OpenRunQLat(sess, LoadOptions{ForceTier: tier})
			return p.Close, rep, err
		},
	}
	specs := map[string]FeatureSpec{"procevents": ProcEventsFeature(), "oomkill": OOMKillFeature(), "runqlat": RunQLatFeature(nil)}
	for name, open := range features {
		for _, tier := range specs[name].Tiers {
			closeFn, rep, err := open(tier.Name)
			switch tier.Name {
			case TierFentry, TierKprobe:
				if err == nil {
					t.Errorf("%s %s loaded here, where the notes say it cannot", name, tier.Name)
				} else {
					t.Logf("%s %s: %s", name, tier.Name, rep.Tiers[indexOfTier(rep, tier.Name)].Reason)
				}
			default:
				if err != nil || rep.Tier != tier.Name {
					t.Errorf("%s %s: %v\n%s", name, tier.Name, err, rep)
				}
			}
			if err == nil {
				closeFn()
			}
		}
	}
}
