package ebpf

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"
)

// What the run-queue latency hooks cost on a context-switch storm
// (scripts/demo/cswitch: 32 threads ping-ponging tokens over pipes, one
// wakeup and one switch per hand-off): interleaved pairs of runs, one with
// a tier attached and one without, alternating which goes first, so that
// drift in the machine's load hits both sides alike. Reports the medians
// of hand-offs per second and the slowdown. Run as root:
//
//	go test -run '^$' -bench RunQLatCSwitch -benchtime 1x ./probes/ebpf/
//
// VITALS_BENCH_PAIRS (default 7) and VITALS_BENCH_SECONDS (default 2) set
// the pairs and the length of each run.
func BenchmarkRunQLatCSwitch(b *testing.B) {
	if !Privileged() {
		b.Skip(NeedsPrivilege)
	}
	pairs, secs := envInt("VITALS_BENCH_PAIRS", 7), envInt("VITALS_BENCH_SECONDS", 2)
	bin := filepath.Join(b.TempDir(), "demo-cswitch")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "../../scripts/demo/cswitch"
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build cswitch: %v\n%s", err, out)
	}
	rate := regexp.MustCompile(`([0-9.]+) hand-offs/s`)
	run := func() float64 {
		out, err := exec.Command(bin, "-threads", "32", "-d", strconv.Itoa(secs)+"s").CombinedOutput()
		if err != nil {
			b.Fatalf("cswitch: %v\n%s", err, out)
		}
		m := rate.FindSubmatch(out)
		if m == nil {
			b.Fatalf("cswitch printed no rate:\n%s", out)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	for _, tier := range []string{TierTpBTF, TierRawTp, TierTracepoint} {
		b.Run(tier, func(b *testing.B) {
			var off, on, slow []float64
			for i := 0; i < pairs; i++ {
				attached := func() float64 {
					rq, rep, err := OpenRunQLat(nil, LoadOptions{ForceTier: tier})
					if err != nil {
						b.Fatalf("%v\n%s", err, rep)
					}
					defer rq.Close()
					return run()
				}
				var a, d float64
				if i%2 == 0 {
					d, a = run(), attached()
				} else {
					a, d = attached(), run()
				}
				off, on = append(off, d), append(on, a)
				slow = append(slow, (d-a)/d*100)
				time.Sleep(200 * time.Millisecond)
			}
			md, ma, ms := med(off), med(on), med(slow)
			// Each hand-off is one wakeup and one switch on one of the
			// CPUs; the added time per hand-off is spread over them.
			perHandoffNs := (1/ma - 1/md) * 1e9
			b.ReportMetric(md, "detached-handoffs/s")
			b.ReportMetric(ma, "attached-handoffs/s")
			b.ReportMetric(ms, "slowdown-%")
			b.Logf("%s: %d interleaved pairs of %d s: hand-offs/s median detached %.0f, attached %.0f; per-pair slowdown median %.1f%% (pairs: %.1f); %.0f ns more wall time per hand-off",
				tier, pairs, secs, md, ma, ms, slow, perHandoffNs)
		})
	}
}

func med(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
