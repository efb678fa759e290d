package probes

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func TestReadHostFixture(t *testing.T) {
	// proc-cpu-t0 holds sys/kernel/{hostname,osrelease} and btime 1700000000.
	h, err := ReadHost("testdata/proc-cpu-t0")
	if err != nil {
		t.Fatal(err)
	}
	want := model.Host{
		Hostname:   "fixture-host",
		Kernel:     "6.1.0-fixture-amd64",
		BootTime:   time.Unix(1_700_000_000, 0),
		ClockTicks: 100,
	}
	if h.Hostname != want.Hostname || h.Kernel != want.Kernel || !h.BootTime.Equal(want.BootTime) ||
		h.ClockTicks != want.ClockTicks || h.Mode != "" {
		t.Errorf("ReadHost = %+v, want %+v", h, want)
	}
}

func TestReadHostMissingFiles(t *testing.T) {
	// proc-cpu-t1 has a stat file but no sys/kernel: boot time is still
	// filled in, and the error names what is missing.
	h, err := ReadHost("testdata/proc-cpu-t1")
	if err == nil || !strings.Contains(err.Error(), "hostname") || !strings.Contains(err.Error(), "osrelease") {
		t.Errorf("err = %v, want it to name hostname and osrelease", err)
	}
	if !h.BootTime.Equal(time.Unix(1_700_000_000, 0)) || h.ClockTicks != 100 {
		t.Errorf("partial host = %+v", h)
	}
	if _, err := ReadHost(t.TempDir()); err == nil || !strings.Contains(err.Error(), "stat") {
		t.Errorf("empty root: err = %v, want it to name stat", err)
	}
}

func TestReadHostReal(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc here")
	}
	h, err := ReadHost("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(out)); h.Kernel != want {
		t.Errorf("Kernel = %q, uname -r says %q", h.Kernel, want)
	}
	if want, err := os.Hostname(); err == nil && h.Hostname != want {
		t.Errorf("Hostname = %q, os.Hostname says %q", h.Hostname, want)
	}
	// uptime -s derives boot time from /proc/uptime, not btime.
	out, err = exec.Command("uptime", "-s").Output()
	if err != nil {
		t.Logf("no uptime -s (%v): boot time checked for plausibility only", err)
		if h.BootTime.After(time.Now()) || h.BootTime.Before(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("BootTime = %v", h.BootTime)
		}
		return
	}
	boot, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(string(out)), time.Local)
	if err != nil {
		t.Fatal(err)
	}
	if d := h.BootTime.Sub(boot).Abs(); d > 5*time.Second {
		t.Errorf("BootTime = %v, uptime -s says %v (%v apart)", h.BootTime, boot, d)
	}
}
