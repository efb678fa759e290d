package model

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// goldenProcess is the process that testdata/process-v1.json was encoded
// from, by the flat Process struct before it was split into parts.
func goldenProcess() Process {
	var p Process
	p.PID, p.PPID, p.StartTicks = 4242, 1, 123456
	p.StartTime = time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	p.UID, p.User, p.Comm, p.Cmdline, p.State = 1000, "alice", "nginx", "nginx: worker process", "S"
	p.Threads, p.Nice, p.Processor = 4, -5, 1
	p.CPUPct, p.UserPct, p.SystemPct, p.WaitPct, p.CPUTimeTicks = 12.5, 10, 2.5, Known(0.75), 98765
	p.VoluntaryCSPerS, p.InvoluntaryCSPerS = 120, 15.5
	p.RSSBytes, p.VSZBytes, p.MinFltPerS, p.MajFltPerS, p.MemPct = 300<<20, 900<<20, 33, 0.5, 3.75
	p.PSSBytes, p.USSBytes, p.SharedBytes, p.SwapBytes = Known(200<<20), Known(150<<20), Unknown, Known(0)
	p.MemDetail, p.MemDetailAgeS, p.Cgroup = DetailStale, 2.5, "/system.slice/nginx.service"
	return p
}

// The parts keep the JSON of the flat struct byte for byte: same keys, same
// order, same values; the I/O and page-cache parts only append their keys.
func TestProcessJSONCompatible(t *testing.T) {
	for _, c := range []struct {
		file string
		p    Process
	}{
		{"testdata/process-v1.json", goldenProcess()},
		{"testdata/process-v1-zero.json", func() Process { var p Process; p.PID = 1; return p }()},
	} {
		old, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		old = bytes.TrimSuffix(bytes.TrimSpace(old), []byte("}"))
		got, err := json.Marshal(c.p)
		if err != nil {
			t.Fatal(err)
		}
		const ioKeys = `,"read_bytes_per_s":null,"write_bytes_per_s":null,"cancelled_write_bytes_per_s":null,` +
			`"rchar_per_s":null,"wchar_per_s":null,"syscr_per_s":null,"syscw_per_s":null,"io_detail":"",` +
			`"cache_hits":null,"cache_misses":null,"cache_read_hit_pct":null,` +
			`"net_tx_bytes_per_s":null,"net_rx_bytes_per_s":null,"net_retransmits_per_s":null,` +
			`"disk_read_bytes_per_s":null,"disk_write_bytes_per_s":null,"disk_ios_per_s":null,"disk_source":"",` +
			`"disk_latency_mean_us":null,"disk_latency_max_us":null,"iodelay_pct":null,"wchan":null}`
		if want := string(old) + ioKeys; string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", c.file, got, want)
		}
		var back Process
		if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back, c.p) {
			t.Errorf("%s: round trip %+v, %v", c.file, back, err)
		}
	}
	var p Process
	p.IODetail, p.ReadBytesPerS, p.SyscwPerS = DetailFresh, Known(4096), Known(0)
	b, _ := json.Marshal(p)
	for _, want := range []string{`"read_bytes_per_s":4096,`, `"syscw_per_s":0,`, `"rchar_per_s":null,`, `"io_detail":"fresh"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
}

// rateFields walks the fields of t (a struct), calling fn with each leaf
// field's JSON key and whether it sits in one of the *Rates structs.
func rateFields(t reflect.Type, inRates bool, fn func(key string, inRates bool)) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			rateFields(f.Type, inRates || strings.HasSuffix(f.Type.Name(), "Rates"), fn)
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fn(key, inRates)
	}
}

// Every per-interval value is in a rate struct that ZeroRates clears: a
// rate added beside them would survive on an idle process.
func TestProcessRatesAreGrouped(t *testing.T) {
	rates := 0
	rateFields(reflect.TypeFor[Process](), false, func(key string, inRates bool) {
		// Per-interval counts (the page-cache pages) are rates too.
		isRate := strings.HasSuffix(key, "_per_s") || (strings.HasSuffix(key, "_pct") && key != "mem_pct") ||
			key == "cache_hits" || key == "cache_misses"
		if isRate != inRates {
			t.Errorf("%s: rate %v, in a *Rates struct %v", key, isRate, inRates)
		}
		if inRates {
			rates++
		}
	})
	p := goldenProcess()
	p.ReadBytesPerS, p.CancelledWriteBytesPerS = Known(1), Known(2)
	p.ZeroRates()
	v := reflect.ValueOf(p)
	var check func(v reflect.Value, inRates bool)
	check = func(v reflect.Value, inRates bool) {
		for i := range v.NumField() {
			f, sf := v.Field(i), v.Type().Field(i)
			if sf.Anonymous {
				check(f, inRates || strings.HasSuffix(sf.Type.Name(), "Rates"))
				continue
			}
			if inRates && !f.IsZero() {
				t.Errorf("ZeroRates left %s = %v", sf.Name, f.Interface())
			}
			if !inRates && sf.Name == "PID" && f.Int() != 4242 {
				t.Errorf("ZeroRates changed the identity")
			}
		}
	}
	check(v, false)
	if rates < 15 {
		t.Errorf("found %d rate fields, want at least 15", rates)
	}
}

func TestDemandSet(t *testing.T) {
	if (DemandSet{}).WantsIO() || !(DemandSet{IO: true}).WantsIO() || !(DemandSet{All: true}).WantsIO() {
		t.Error("WantsIO: IO or All")
	}
	a := DemandSet{Keys: []ProcKey{{1, 2}}, Slab: true}
	for _, b := range []DemandSet{{Keys: []ProcKey{{1, 2}}}, {Keys: []ProcKey{{1, 3}}, Slab: true}, {Keys: a.Keys, Slab: true, IO: true},
		{Keys: a.Keys, Slab: true, All: true}, {Keys: a.Keys, Slab: true, FilesOf: ProcKey{PID: 9}}} {
		if a.Equal(b) {
			t.Errorf("%+v equals %+v", a, b)
		}
	}
	if !a.Equal(DemandSet{Keys: []ProcKey{{1, 2}}, Slab: true}) {
		t.Error("equal sets differ")
	}
}
