package cputab

import (
	"strings"
	"testing"
)

func TestCPUTime(t *testing.T) {
	for ticks, want := range map[uint64]string{0: "0:00.00", 123456: "20:34.56", 100 * 60 * 100: "1h40:00", 98765: "16:27.65"} {
		if got := cpuTime(ticks); got != want {
			t.Errorf("cpuTime(%d) = %q, want %q", ticks, got, want)
		}
	}
}

// WaitPct and the switch rates are summed over every thread, so neither
// the title nor the help may pass them off as pidstat's main-thread
// figures.
func TestWaitAndSwitchesSaySummedOverThreads(t *testing.T) {
	byID := map[string]string{}
	titles := map[string]string{}
	for _, c := range Columns() {
		byID[c.ID], titles[c.ID] = c.Help, c.Title
	}
	if titles["wait"] != "WAIT%" {
		t.Errorf("wait column titled %q, want WAIT%% (not pidstat's %%wait)", titles["wait"])
	}
	for _, id := range []string{"wait", "cswch", "nvcswch"} {
		for _, want := range []string{"summed over threads", "main thread only"} {
			if !strings.Contains(byID[id], want) {
				t.Errorf("%s help lacks %q: %s", id, want, byID[id])
			}
		}
	}
	if !strings.Contains(byID["wait"], "% of one CPU") {
		t.Errorf("wait help does not say its unit: %s", byID["wait"])
	}
}
