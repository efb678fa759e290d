package probes

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// TestDiskAgainstIostatOnLoopDevice attaches a loop device to a file this
// test creates, has a child dd write a known amount to it with direct I/O,
// and checks that device's figures against the known amount and against
// iostat -dx -y over the same second. Only the device the test created is
// looked at; it is detached afterwards whatever happens.
func TestDiskAgainstIostatOnLoopDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("takes a second of wall time")
	}
	if os.Geteuid() != 0 {
		t.Skip("attaching a loop device needs root")
	}
	iostat := lookTool(t, "iostat", "sysstat")
	dd := lookTool(t, "dd", "coreutils")

	const (
		writes  = 400
		blockKB = 64
	)
	dev, _ := ebpftest.AttachLoop(t, 64<<20)
	name := filepath.Base(dev)

	p, err := NewDiskProbe(DiskProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	// iostat takes its first reading as it starts and its second one
	// second later; the probe reads right after it starts and one second
	// after that. The writes happen well inside both windows, so both
	// see the same counter deltas and differ only in their divisors.
	var ioOut, ioErr bytes.Buffer
	cmd := exec.Command(iostat, "-dx", "-y", "-o", "JSON", name, "1", "1")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = &ioOut, &ioErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := p.Read(start); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	ddOut, err := exec.Command(dd, "if=/dev/zero", "of="+dev, "oflag=direct", "bs="+strconv.Itoa(blockKB)+"k", "count="+strconv.Itoa(writes)).CombinedOutput()
	if err != nil {
		t.Fatalf("dd: %v: %s", err, ddOut)
	}
	if time.Since(start) > 800*time.Millisecond {
		t.Skipf("dd took %v on this loaded machine: the writes may straddle the window", time.Since(start))
	}
	time.Sleep(time.Until(start.Add(time.Second)))
	end := time.Now()
	d, err := p.Read(end)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("iostat: %v: %s", err, ioErr.String())
	}
	ours := d.Device(name)
	if ours == nil {
		t.Fatalf("%s not in /proc/diskstats as read by the probe", name)
	}
	if ours.Kind != model.DiskKindLoop {
		t.Errorf("%s kind %q", name, ours.Kind)
	}
	window := end.Sub(start).Seconds()

	// Against the known amount: exactly `writes` writes of blockKB each.
	checkFloat(t, "w/s vs dd", ours.WritesPerS, writes/window)
	checkFloat(t, "write bytes/s vs dd", ours.WriteBytesPerS, writes*blockKB*1024/window)
	checkFloat(t, "wareq-sz vs dd", ours.WareqSzKB, blockKB)

	// Against iostat over the same second.
	io := parseIostatJSON(t, ioOut.Bytes(), name)
	t.Logf("window %.4f s; %d × %d KiB O_DIRECT writes by dd", window, writes, blockKB)
	t.Logf("%-9s %12s %12s", "", "vitals", "iostat")
	rows := []struct {
		col  string
		ours model.Float
		tol  float64 // relative: the two windows differ by a few ms
		abs  float64 // iostat prints two decimals
	}{
		{"w/s", ours.WritesPerS, 0.03, 0.01},
		{"wkB/s", scaled(ours.WriteBytesPerS, 1.0/1024), 0.03, 0.01},
		{"wareq-sz", ours.WareqSzKB, 0, 0.01},
		{"w_await", ours.WAwaitMS, 0, 0.01},
		{"wrqm/s", ours.WrqmPerS, 0.03, 0.01},
		{"r/s", ours.ReadsPerS, 0.03, 0.01},
		{"aqu-sz", ours.AquSz, 0.03, 0.011},
		{"util", ours.UtilPct, 0.03, 0.011},
	}
	for _, r := range rows {
		theirs, ok := io[r.col]
		if !ok {
			t.Errorf("iostat printed no %s", r.col)
			continue
		}
		t.Logf("%-9s %12s %12.2f", r.col, fmtFloat(r.ours), theirs)
		if !r.ours.OK {
			// iostat prints 0.00 where there was nothing to average.
			if theirs != 0 {
				t.Errorf("%s: vitals null, iostat %.2f", r.col, theirs)
			}
			continue
		}
		if diff := math.Abs(r.ours.V - theirs); diff > r.abs+r.tol*math.Abs(theirs) {
			t.Errorf("%s: vitals %.4f, iostat %.2f", r.col, r.ours.V, theirs)
		}
	}
}

func scaled(f model.Float, k float64) model.Float {
	if f.OK {
		f.V *= k
	}
	return f
}

func fmtFloat(f model.Float) string {
	if !f.OK {
		return "null"
	}
	return strconv.FormatFloat(f.V, 'f', 4, 64)
}

// parseIostatJSON returns the named device's columns from iostat -o JSON.
func parseIostatJSON(t *testing.T, out []byte, dev string) map[string]float64 {
	t.Helper()
	var doc struct {
		Sysstat struct {
			Hosts []struct {
				Statistics []struct {
					Disk []map[string]any `json:"disk"`
				} `json:"statistics"`
			} `json:"hosts"`
		} `json:"sysstat"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("iostat JSON: %v\n%s", err, out)
	}
	for _, h := range doc.Sysstat.Hosts {
		for _, st := range h.Statistics {
			for _, d := range st.Disk {
				if d["disk_device"] != dev {
					continue
				}
				cols := map[string]float64{}
				for k, v := range d {
					if f, ok := v.(float64); ok {
						cols[k] = f
					}
				}
				return cols
			}
		}
	}
	t.Fatalf("iostat did not report %s:\n%s", dev, out)
	return nil
}

// TestFilesystemsAgainstDF compares every local filesystem df shows with
// the probe's figures read at the same moment.
func TestFilesystemsAgainstDF(t *testing.T) {
	df := lookTool(t, "df", "coreutils")
	p, err := NewDiskProbe(DiskProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Read(time.Now()); err != nil {
		t.Fatal(err)
	}
	d, err := p.Read(time.Now().Add(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(df, "-l", "-B1", "--output=target,size,used,avail,pcent,ipcent")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("df: %v", err)
	}
	byMount := map[string]*model.Filesystem{}
	for i := range d.Filesystems {
		byMount[d.Filesystems[i].Mount] = &d.Filesystems[i]
	}
	compared := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) != 6 {
			continue // a mount point with spaces
		}
		fs := byMount[f[0]]
		if fs == nil {
			continue // df shows every mount of a device once too, but may pick another of its mount points
		}
		num := func(s string) float64 {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
			return v
		}
		t.Logf("%-20s df size %s used %s avail %s %s iuse %s | vitals %v %v %v %v %v", f[0], f[1], f[2], f[3], f[4], f[5],
			fs.SizeBytes.V, fs.UsedBytes.V, fs.AvailBytes.V, fs.UsePct.V, fs.InodesUsedPct.V)
		// Other processes write meanwhile: allow 1 MiB of drift.
		for _, c := range []struct {
			name   string
			ours   model.Float
			theirs float64
			tol    float64
		}{
			{"size", fs.SizeBytes, num(f[1]), 0},
			{"used", fs.UsedBytes, num(f[2]), 1 << 20},
			{"avail", fs.AvailBytes, num(f[3]), 1 << 20},
			{"use%", fs.UsePct, num(f[4]), 1},
		} {
			if !c.ours.OK || math.Abs(c.ours.V-c.theirs) > c.tol {
				t.Errorf("%s %s: vitals %+v, df %v", f[0], c.name, c.ours, c.theirs)
			}
		}
		if f[5] != "-" && (!fs.InodesUsedPct.OK || math.Abs(fs.InodesUsedPct.V-num(f[5])) > 1) {
			t.Errorf("%s IUse%%: vitals %+v, df %s", f[0], fs.InodesUsedPct, f[5])
		}
		compared++
	}
	if compared == 0 {
		t.Fatalf("no filesystem of df's found:\n%s", out)
	}
}
