package cputab

import "testing"

func TestCPUTime(t *testing.T) {
	for ticks, want := range map[uint64]string{0: "0:00.00", 123456: "20:34.56", 100 * 60 * 100: "1h40:00", 98765: "16:27.65"} {
		if got := cpuTime(ticks); got != want {
			t.Errorf("cpuTime(%d) = %q, want %q", ticks, got, want)
		}
	}
}
