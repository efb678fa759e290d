package probes

// Fuzz targets for every parser of kernel text: whatever the bytes, no
// panic, no unbounded allocation, and what a parser accepts agrees with a
// plain reading of the same text. FuzzParseProcIO and FuzzParseStatm are
// in procread_io_test.go. make fuzz-short runs each for a few seconds.

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("1234 (bash) S 1 1234 1234 34816 1234 4194560 1000 2000 3 4 50 60 70 80 20 0 1 0 12345 10000000 500 18446744073709551615 1 1 0 0 0 0 65536 3670020 1266777851 0 0 0 17 1 0 0 0 0 0\n"))
	f.Add([]byte("7 (a) b)) R 1 2 3"))
	f.Add([]byte("9 (\n) Z 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st procStat
		if !parseProcStat(b, &st) {
			return
		}
		open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if !bytes.Equal(st.Comm, b[open+1:closing]) {
			t.Fatalf("%q: comm %q, want the text between the first ( and the last )", b, st.Comm)
		}
		pid, err := strconv.ParseInt(string(bytes.TrimSpace(b[:open])), 10, 32)
		if err == nil && int32(pid) != st.PID {
			t.Fatalf("%q: pid %d, the text says %d", b, st.PID, pid)
		}
	})
}

func FuzzParseProcStatus(f *testing.F) {
	f.Add([]byte("Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nvoluntary_ctxt_switches:\t12\nnonvoluntary_ctxt_switches:\t3\n"))
	f.Add([]byte("Uid:\n"))
	f.Add([]byte("Uid: 4294967296\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st procStatus
		if !parseProcStatus(b, &st) {
			return
		}
		for line := range bytes.Lines(b) {
			if rest, ok := bytes.CutPrefix(line, statusUID); ok {
				if fields := bytes.Fields(rest); len(fields) > 0 {
					if v, err := strconv.ParseUint(string(fields[0]), 10, 32); err == nil && uint32(v) != st.UID {
						t.Fatalf("%q: uid %d, the line says %d", b, st.UID, v)
					}
				}
				break
			}
		}
	})
}

func FuzzParseSchedstat(f *testing.F) {
	f.Add([]byte("12345678 9012 34\n"))
	f.Add([]byte("1 2"))
	f.Add([]byte("18446744073709551616 0 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, ok := parseSchedstat(b)
		if !ok {
			return
		}
		fields := bytes.Fields(b)
		if len(fields) < 3 {
			t.Fatalf("%q accepted with %d fields", b, len(fields))
		}
		for i, want := range []uint64{st.runTime, st.runDelay, st.switchIns} {
			if v, err := strconv.ParseUint(string(fields[i]), 10, 64); err != nil || v != want {
				t.Fatalf("%q: field %d is %d, strconv says %d (%v)", b, i, want, v, err)
			}
		}
		if d, ok := parseSchedstatRunDelay(b); !ok || d != st.runDelay {
			t.Fatalf("%q: run delay %d %v, full parse %d", b, d, ok, st.runDelay)
		}
	})
}

// dirent builds one linux_dirent64 record.
func dirent(name string, typ byte) []byte {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, reclen)
	binary.NativeEndian.PutUint16(b[16:18], uint16(reclen))
	b[18] = typ
	copy(b[19:], name)
	return b
}

func FuzzAppendNumericDirents(f *testing.F) {
	f.Add(append(append(dirent("1", 4), dirent("self", 10)...), dirent("4194304", 4)...))
	f.Add(dirent("0", 4))
	f.Add(dirent("99999999999", 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		pids := appendNumericDirents(nil, b)
		if len(pids) > len(b)/19 {
			t.Fatalf("%d names from %d bytes", len(pids), len(b))
		}
		for _, p := range pids {
			if p <= 0 {
				t.Fatalf("%q: non-positive pid %d", b, p)
			}
		}
	})
}

func FuzzCmdlineText(f *testing.F) {
	f.Add([]byte("/usr/bin/python3\x00-m\x00http.server\x00"))
	f.Add([]byte("\x00\x00"))
	f.Add([]byte("nginx: worker process"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := strings.TrimRight(string(b), "\x00")
		want = strings.ReplaceAll(want, "\x00", " ")
		if got := string(cmdlineText(bytes.Clone(b))); got != want {
			t.Fatalf("%q: %q, want %q", b, got, want)
		}
	})
}

func FuzzParsePasswd(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534::/:/sbin/nologin\n"))
	f.Add([]byte("#c\n:x:1:1\nu:x:4294967296:0\nv:x:2\n"))
	f.Add([]byte("a:x:7:7\nb:x:7:7\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		names := parsePasswd(b)
		for uid, name := range names {
			if name == "" {
				t.Fatalf("%q: uid %d has an empty name", b, uid)
			}
			found := false
			for line := range bytes.Lines(b) {
				fields := bytes.SplitN(bytes.TrimSuffix(line, []byte("\n")), []byte(":"), 4)
				// strconv, like glibc's strtoul, reads "007" as 7.
				if v, err := strconv.ParseUint(string(fieldOr(fields, 2)), 10, 32); err == nil && len(fields) == 4 &&
					string(fields[0]) == name && uint32(v) == uid {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("%q: uid %d → %q matches no line", b, uid, name)
			}
		}
	})
}

func fieldOr(fields [][]byte, i int) []byte {
	if i < len(fields) {
		return fields[i]
	}
	return nil
}

func FuzzMemoryCgroupPath(f *testing.F) {
	f.Add([]byte("0::/user.slice/user-0.slice/session-1.scope\n"))
	f.Add([]byte("12:pids:/a\n4:cpu,memory:/system.slice/x:y.service\n0::/b\n"))
	f.Add([]byte("0::\n1:memory:relative\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path, ok := MemoryCgroupPath(b)
		if !ok {
			if path != "" {
				t.Fatalf("%q: not ok but path %q", b, path)
			}
			return
		}
		if !strings.HasPrefix(path, "/") || strings.Contains(path, "\n") || !bytes.Contains(b, []byte(path)) {
			t.Fatalf("%q: path %q is not an absolute path of one line of the input", b, path)
		}
	})
}

func FuzzParseCgroupPressure(f *testing.F) {
	f.Add("some avg10=0.00 avg60=0.12 avg300=1.50 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
	f.Add("some avg10=NaN avg60=0 avg300=0 total=0\n")
	f.Add("full avg10=1\n")
	f.Fuzz(func(t *testing.T, text string) {
		psi, err := parseCgroupPressure(text)
		if err != nil {
			return
		}
		avgs := []float64{psi.Some.Avg10, psi.Some.Avg60, psi.Some.Avg300}
		if psi.Full != nil {
			avgs = append(avgs, psi.Full.Avg10, psi.Full.Avg60, psi.Full.Avg300)
		}
		for _, v := range avgs {
			// A percentage: NaN or Inf would also fail the JSON encoding
			// of the whole snapshot.
			if math.IsNaN(v) || v < 0 || v > 100 {
				t.Fatalf("%q: average %v is not a percentage", text, v)
			}
		}
	})
}

func FuzzParseSmapsRollup(f *testing.F) {
	f.Add([]byte("55d0c0a00000-7ffd7b5d1000 ---p 00000000 00:00 0 [rollup]\nRss:  4512 kB\nPss:  1234 kB\nShared_Clean: 3000 kB\nShared_Dirty: 10 kB\nPrivate_Clean: 100 kB\nPrivate_Dirty: 1402 kB\nSwap: 0 kB\n"))
	f.Add([]byte("Rss: 18446744073709551615 kB\n"))
	f.Add([]byte("Rss:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m smapsRollup
		if !parseSmapsRollup(b, &m) {
			return
		}
		_ = m.USS()
	})
}

func FuzzParseVmstat(f *testing.F) {
	f.Add([]byte("nr_free_pages 123\npgpgin 5\npgpgout 6\npswpin 0\npswpout 0\npgmajfault 7\n"))
	f.Add([]byte("pgpgin\npgpgout x\n"))
	f.Add([]byte("pgpgin 1 2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c vmstatCounters
		parseVmstat(b, &c)
	})
}

func FuzzParseSoftirqs(f *testing.F) {
	f.Add("                    CPU0       CPU1\n          HI:          1          0\n       TIMER:     123456     654321\n")
	f.Add("CPU0\nHI: 1 2\n")
	f.Add("CPUx\n")
	f.Fuzz(func(t *testing.T, text string) {
		tab, err := parseSoftirqs(text)
		if err != nil {
			return
		}
		if len(tab.names) != len(tab.counts) {
			t.Fatalf("%q: %d names, %d rows", text, len(tab.names), len(tab.counts))
		}
		for i, row := range tab.counts {
			if len(row) != len(tab.cpus) {
				t.Fatalf("%q: row %s has %d counters for %d CPUs", text, tab.names[i], len(row), len(tab.cpus))
			}
		}
	})
}

func FuzzParseLoadEntities(f *testing.F) {
	f.Add("0.71 0.29 0.12 1/92 6466\n")
	f.Add("1 2 3 4/\n")
	f.Add("a b c 18446744073709551615/18446744073709551615")
	f.Fuzz(func(t *testing.T, text string) {
		runnable, total, err := parseLoadEntities(text)
		if err != nil {
			return
		}
		r, tot, _ := strings.Cut(strings.Fields(text)[3], "/")
		wr, err1 := strconv.ParseUint(r, 10, 64)
		wt, err2 := strconv.ParseUint(tot, 10, 64)
		if err1 != nil || err2 != nil || wr != runnable || wt != total {
			t.Fatalf("%q: %d/%d, strconv reads %d/%d (%v %v)", text, runnable, total, wr, wt, err1, err2)
		}
	})
}

func FuzzParseCPUList(f *testing.F) {
	f.Add("0-3,8,10-11")
	f.Add("0")
	f.Add("0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536,0-65536")
	f.Add("3-1")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := parseCPUList(s)
		if err != nil {
			return
		}
		// No machine has more: a list naming more is not a CPU list, and
		// must not cost gigabytes to reject.
		if len(ids) > maxCPUListIDs {
			t.Fatalf("%.40q…: %d ids", s, len(ids))
		}
		for _, id := range ids {
			if id < 0 {
				t.Fatalf("%q: negative id %d", s, id)
			}
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	f.Add([]byte("18446744073709551615"))
	f.Add([]byte("18446744073709551616"))
	f.Add([]byte("-12"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := parseDecimal(b); ok {
			if w, err := strconv.ParseUint(string(b), 10, 64); err != nil || w != v {
				t.Fatalf("%q: %d, strconv says %d (%v)", b, v, w, err)
			}
		}
		if v, ok := parseSigned(b); ok {
			if w, err := strconv.ParseInt(string(b), 10, 64); err != nil || w != v {
				t.Fatalf("%q: signed %d, strconv says %d (%v)", b, v, w, err)
			}
		}
	})
}

// The kernel log's OOM records: never a panic; a kill always has a
// victim pid and one of the known constraints.
func FuzzKmsgOOMRecord(f *testing.F) {
	for _, l := range kmsgOOM {
		f.Add(l)
	}
	f.Add("6,1,1,-;oom-kill:constraint=CONSTRAINT_NONE,pid=,x\n")
	f.Add("6,1,1,-;oom-kill:constraint,=,pid=-5\n")
	f.Fuzz(func(t *testing.T, rec string) {
		if l, ok := parseOOMLineRecord([]byte(rec)); ok {
			switch l.constraint {
			case "", "memcg", "global", "cpuset", "mempolicy":
			default:
				t.Errorf("constraint %q from %q", l.constraint, rec)
			}
		}
		var p kmsgParser
		for _, r := range []string{kmsgOOM[3], rec, rec} {
			ev, ok := p.record([]byte(r), func(uint64) time.Time { return time.Time{} })
			if !ok {
				continue
			}
			d := ev.Data.(*model.OOMKillData)
			switch d.Constraint {
			case "memcg", "global", "cpuset", "mempolicy":
			default:
				t.Errorf("constraint %q from %q", d.Constraint, r)
			}
		}
	})
}

func FuzzParseDelayacct(f *testing.F) {
	for _, s := range []string{"0\n", "1\n", "", "2", " 1 ", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		on, why := parseDelayacct(b, true)
		if on == (why != "") {
			t.Fatalf("%q: on %v with reason %q", b, on, why)
		}
		if on && len(bytes.TrimSpace(b)) == 0 {
			t.Fatalf("%q: on from nothing", b)
		}
	})
}

// FuzzDecodeSlowIO: any ring-buffer record decodes into a slow_io event
// or is refused, never a panic; a short one is refused.
func FuzzDecodeSlowIO(f *testing.F) {
	rec := make([]byte, 56)
	rec[24], rec[26] = 0x01, 0x70 // dev 7:1
	copy(rec[40:], "postgres")
	f.Add(rec)
	f.Add(rec[:55])
	f.Add(append(rec, 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev model.Event
		ok := decodeSlowIO(b, &ev)
		if ok != (len(b) >= 56 && binary.LittleEndian.Uint32(b[36:]) <= 1) {
			t.Fatalf("%d bytes: decoded %v", len(b), ok)
		}
		if !ok {
			return
		}
		d, isSlow := ev.Data.(model.SlowIOData)
		if !isSlow || ev.Kind != model.EventSlowIO || (d.Op != "R" && d.Op != "W") || len(ev.Comm) > 16 {
			t.Fatalf("%x: %+v", b, ev)
		}
	})
}
