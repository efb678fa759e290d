package probes

import (
	"bytes"
	"strconv"
	"testing"
)

// realIO is /proc/self/io of a shell on this kind of machine.
const realIO = "rchar: 2012\nwchar: 37\nsyscr: 11\nsyscw: 2\nread_bytes: 16384\nwrite_bytes: 4096\ncancelled_write_bytes: 0\n"

func TestParseProcIO(t *testing.T) {
	var io procIO
	if !parseProcIO([]byte(realIO), &io) {
		t.Fatal("real io file rejected")
	}
	want := procIO{rchar: 2012, wchar: 37, syscr: 11, syscw: 2, readBytes: 16384, writeBytes: 4096, have: 0x7f}
	if io != want {
		t.Errorf("got %+v, want %+v", io, want)
	}
	// Without CONFIG_TASK_IO_ACCOUNTING: the character counters only.
	if !parseProcIO([]byte("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\n"), &io) || io.have != ioHaveChars || io.wchar != 2 {
		t.Errorf("four-line file: %+v", io)
	}
	for _, bad := range []string{"", "rchar: 1\n", "rchar: x\nwchar: 2\nsyscr: 3\nsyscw: 4\n",
		"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: -1\n", "rchar: 99999999999999999999999\nwchar: 2\nsyscr: 3\nsyscw: 4\n"} {
		if parseProcIO([]byte(bad), &io) {
			t.Errorf("accepted %q: %+v", bad, io)
		}
	}
	if n := testing.AllocsPerRun(100, func() { parseProcIO([]byte(realIO), &io) }); n != 0 {
		t.Errorf("%v allocations per parse", n)
	}
}

func TestParseStatm(t *testing.T) {
	size, res, ok := parseStatm([]byte("2513 449 385 5 0 85 0\n")) // a sleep on this kind of machine
	if !ok || size != 2513 || res != 449 {
		t.Errorf("got %d %d %v", size, res, ok)
	}
	if _, res, ok := parseStatm([]byte("0 0 0 0 0 0 0\n")); !ok || res != 0 { // a kernel thread
		t.Errorf("kernel thread: %d %v", res, ok)
	}
	for _, bad := range []string{"", "2513", "2513 x 1", " \n"} {
		if _, _, ok := parseStatm([]byte(bad)); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

// The parsers read untrusted-shaped input in place: they must never panic
// and must agree with a plain strconv reading of whatever they accept.
func FuzzParseProcIO(f *testing.F) {
	f.Add([]byte(realIO))
	f.Add([]byte("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\n"))
	f.Add([]byte("rchar:\nwchar: 2\n"))
	f.Add([]byte("cancelled_write_bytes: 5\nrchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var io procIO
		if !parseProcIO(b, &io) {
			return
		}
		if io.have&ioHaveChars != ioHaveChars {
			t.Fatalf("accepted without the character counters: %+v", io)
		}
		for line := range bytes.Lines(b) {
			for _, k := range ioKeys {
				if rest, ok := bytes.CutPrefix(line, k.key); ok {
					v, err := strconv.ParseUint(string(bytes.Fields(rest)[0]), 10, 64)
					if err == nil && *io.field(k.have) != v && !bytes.Contains(b[bytes.Index(b, line)+len(line):], k.key) {
						t.Fatalf("%s = %d, the line says %d", k.key, *io.field(k.have), v)
					}
					break
				}
			}
		}
	})
}

func FuzzParseStatm(f *testing.F) {
	f.Add([]byte("2513 449 385 5 0 85 0\n"))
	f.Add([]byte("0 0 0 0 0 0 0\n"))
	f.Add([]byte("1\t2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		size, res, ok := parseStatm(b)
		if !ok {
			return
		}
		fields := bytes.Fields(b)
		s, err1 := strconv.ParseUint(string(fields[0]), 10, 64)
		r, err2 := strconv.ParseUint(string(fields[1]), 10, 64)
		if err1 != nil || err2 != nil || s != size || r != res {
			t.Fatalf("%q: %d %d, strconv says %d %d (%v %v)", b, size, res, s, r, err1, err2)
		}
	})
}
