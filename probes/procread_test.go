package probes

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func readTestdata(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The real files were captured on this kind of machine: kthreadd and a
// `sleep 12345`; the expected values are read off the files by eye.
func TestParseProcStatReal(t *testing.T) {
	var st procStat
	if !parseProcStat(readTestdata(t, "proc-scan-real/14240/stat"), &st) {
		t.Fatal("parse failed")
	}
	want := procStat{PID: 14240, Comm: []byte("sleep"), State: 'S', PPID: 14237, MinFlt: 99, Priority: 20,
		NumThreads: 1, StartTicks: 61644, VSize: 2990080, RSSPages: 391, BlkioOK: true} // field 42 present, 0
	if fmt.Sprintf("%+v", st) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", st, want)
	}
	if !parseProcStat(readTestdata(t, "proc-scan-real/2/stat"), &st) {
		t.Fatal("parse failed")
	}
	want = procStat{PID: 2, Comm: []byte("kthreadd"), State: 'S', Priority: 20, NumThreads: 1, StartTicks: 22, BlkioOK: true}
	if fmt.Sprintf("%+v", st) != fmt.Sprintf("%+v", want) {
		t.Errorf("got  %+v\nwant %+v", st, want)
	}
}

func TestParseProcStatComm(t *testing.T) {
	const rest = " R 1 5 5 0 -1 0 11 0 12 0 13 14 0 0 -2 -19 4 0 777 4096 3 1 1 1 1 1 1 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	for _, comm := range []string{"plain", "two words", "a) (b\nc", ") R 9 9 9", "((", "", "\x1b[31mred", "kworker/u8:1-flush-254:0"} {
		var st procStat
		if !parseProcStat([]byte("42 ("+comm+")"+rest), &st) {
			t.Errorf("comm %q: parse failed", comm)
			continue
		}
		if string(st.Comm) != comm || st.PID != 42 || st.State != 'R' || st.PPID != 1 || st.MinFlt != 11 ||
			st.MajFlt != 12 || st.UTime != 13 || st.STime != 14 || st.Priority != -2 || st.Nice != -19 ||
			st.NumThreads != 4 || st.StartTicks != 777 || st.VSize != 4096 || st.RSSPages != 3 || st.Processor != 1 {
			t.Errorf("comm %q: %+v", comm, st)
		}
	}
	for _, bad := range []string{
		"",
		"42 no parens S 1",
		"42 (truncated",
		"42 (short) S 1 2 3",
		"x (bad pid) " + rest,
		"42 (letters) S 1 5 5 0 -1 0 eleven 0 12 0 13 14 0 0 20 0 1 0 7 4096 3 1 1 1 1 1 1 0 0 0 0 0 0 0 17 1\n",
		"42 (negative utime) S 1 5 5 0 -1 0 11 0 12 0 -13 14 0 0 20 0 1 0 7 4096 3 1 1 1 1 1 1 0 0 0 0 0 0 0 17 1\n",
	} {
		var st procStat
		if parseProcStat([]byte(bad), &st) {
			t.Errorf("%q parsed: %+v", bad, st)
		}
	}
}

func TestParseProcStatus(t *testing.T) {
	var st procStatus
	if !parseProcStatus(readTestdata(t, "proc-scan-real/2/status"), &st) {
		t.Fatal("parse failed")
	}
	if st != (procStatus{UID: 0, VoluntaryCS: 62, InvoluntaryCS: 0}) {
		t.Errorf("kthreadd status: %+v", st)
	}
	if !parseProcStatus(readTestdata(t, "proc-scan-t0/101/status"), &st) {
		t.Fatal("parse failed")
	}
	if st.UID != 4242 { // real uid, not the effective 0
		t.Errorf("uid %d, want the real uid 4242", st.UID)
	}
	// Without the final newline, and with a Name that looks like a field.
	if !parseProcStatus([]byte("Name:\tvoluntary_ctxt_switches:\t9\nUid:\t7\t7\t7\t7\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t4"), &st) ||
		st != (procStatus{UID: 7, VoluntaryCS: 3, InvoluntaryCS: 4}) {
		t.Errorf("got %+v", st)
	}
	for _, bad := range []string{"", "Uid:\t1\t1\t1\t1\nvoluntary_ctxt_switches:\t3\n", "Uid:\tx\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t4\n"} {
		if parseProcStatus([]byte(bad), &st) {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseSchedstatRunDelay(t *testing.T) {
	if v, ok := parseSchedstatRunDelay(readTestdata(t, "proc-scan-real/14240/schedstat")); !ok || v != 2031153 {
		t.Errorf("got %d %v, want 2031153", v, ok)
	}
	for _, bad := range []string{"", "123\n", "1 x 3\n"} {
		if _, ok := parseSchedstatRunDelay([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestCmdlineText(t *testing.T) {
	for in, want := range map[string]string{
		"sleep\x0012345\x00":  "sleep 12345",
		"a\x00\x00b\x00\x00":  "a  b",
		"no-nul":              "no-nul",
		"":                    "",
		"\x00\x00":            "",
		"setproctitle style ": "setproctitle style ",
	} {
		if got := string(cmdlineText([]byte(in))); got != want {
			t.Errorf("cmdlineText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "7": 7, "18446744073709551615": 1<<64 - 1} {
		if v, ok := parseDecimal([]byte(in)); !ok || v != want {
			t.Errorf("parseDecimal(%q) = %d %v", in, v, ok)
		}
	}
	for _, bad := range []string{"", "-1", "1x", "18446744073709551616", "99999999999999999999"} {
		if v, ok := parseDecimal([]byte(bad)); ok {
			t.Errorf("parseDecimal(%q) = %d", bad, v)
		}
	}
	for in, want := range map[string]int64{"-20": -20, "19": 19, "-9223372036854775808": -1 << 63} {
		if v, ok := parseSigned([]byte(in)); !ok || v != want {
			t.Errorf("parseSigned(%q) = %d %v", in, v, ok)
		}
	}
	for _, bad := range []string{"-", "9223372036854775808", "--1"} {
		if v, ok := parseSigned([]byte(bad)); ok {
			t.Errorf("parseSigned(%q) = %d", bad, v)
		}
	}
}

func TestProcReaderReadPath(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("0123456789", 1500) // 15,000 bytes: the 4 KiB buffer grows
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "7"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "7", "big"), []byte(big), 0o644))
	must(os.WriteFile(filepath.Join(dir, "7", "empty"), nil, 0o644))
	must(os.WriteFile(filepath.Join(dir, "7", "exact"), []byte(strings.Repeat("x", procReadInitial)), 0o644))
	r, err := newProcReader(dir)
	must(err)
	defer r.close()

	r.pidPath(7, "big")
	if got, errno := r.readPath(0); errno != 0 || string(got) != big {
		t.Errorf("big: %d bytes, errno %v", len(got), errno)
	}
	if got, errno := r.readPath(1000); errno != 0 || string(got) != big[:1000] {
		t.Errorf("limited: %d bytes, errno %v", len(got), errno)
	}
	r.pidPath(7, "exact")
	if got, errno := r.readPath(0); errno != 0 || len(got) != procReadInitial {
		t.Errorf("exact: %d bytes, errno %v", len(got), errno)
	}
	r.pidPath(7, "empty")
	if got, errno := r.readPath(0); errno != 0 || len(got) != 0 {
		t.Errorf("empty: %q, errno %v", got, errno)
	}
	r.pidPath(8, "stat")
	if _, errno := r.readPath(0); errno != syscall.ENOENT || !vanishedErrno(errno) {
		t.Errorf("missing: errno %v, want ENOENT", errno)
	}
	r.taskPath(7, 9, "status")
	if string(r.path) != "7/task/9/status" {
		t.Errorf("task path %q", r.path)
	}
}

func TestProcReaderListRoot(t *testing.T) {
	dir := t.TempDir()
	var want []int32
	// Enough entries for several getdents64 calls.
	for pid := int32(1); pid <= 3000; pid++ {
		if err := os.Mkdir(filepath.Join(dir, fmt.Sprint(pid)), 0o755); err != nil {
			t.Fatal(err)
		}
		want = append(want, pid)
	}
	for _, name := range []string{"self", "0", "sys", "4294967296"} {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "5000"), nil, 0o644); err != nil { // a file, not a process
		t.Fatal(err)
	}
	r, err := newProcReader(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	for round := range 2 { // the second listing rewinds the kept fd
		got, errno := r.listRoot(nil)
		if errno != 0 {
			t.Fatal(errno)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("round %d: listed %d pids, want %d", round, len(got), len(want))
		}
	}
	var dst []int32
	allocs := testing.AllocsPerRun(20, func() {
		dst, _ = r.listRoot(dst[:0])
		r.pidPath(17, "nothing")
		r.readPath(0)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per listing", allocs)
	}
}

func TestAppendNumericDirents(t *testing.T) {
	rec := func(name string, typ byte, reclen int) []byte {
		b := make([]byte, max(reclen, 24))
		binary.NativeEndian.PutUint16(b[16:], uint16(reclen))
		b[18] = typ
		copy(b[19:], name)
		return b
	}
	var buf []byte
	buf = append(buf, rec("12", syscall.DT_DIR, 24)...)
	buf = append(buf, rec("34", syscall.DT_UNKNOWN, 24)...)
	buf = append(buf, rec("56", syscall.DT_REG, 24)...)
	buf = append(buf, rec("x7", syscall.DT_DIR, 24)...)
	buf = append(buf, rec("2147483648", syscall.DT_DIR, 32)...)
	buf = append(buf, rec("99", syscall.DT_DIR, 4)...) // corrupt reclen: stop
	buf = append(buf, rec("100", syscall.DT_DIR, 24)...)
	if got := appendNumericDirents(nil, buf); !slices.Equal(got, []int32{12, 34}) {
		t.Errorf("got %v, want [12 34]", got)
	}
}
