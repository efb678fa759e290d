package e2e

// The ways a terminal program is stopped, suspended, orphaned and resized
// that are not a key press (issue #13): each drives the real binary.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
)

// vitalsPID waits for the one live vitals process started from bin.
func vitalsPID(t *testing.T, bin string, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out, _ := exec.Command("pgrep", "-f", "^"+bin+"$").Output()
		if f := strings.Fields(string(out)); len(f) == 1 {
			pid, _ := strconv.Atoi(f[0])
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single vitals process after %v (pgrep: %q)", timeout, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procState is the state letter of /proc/PID/stat ("" once it is gone).
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(b)
	if f := strings.Fields(s[strings.LastIndex(s, ")")+1:]); len(f) > 0 {
		return f[0]
	}
	return ""
}

func waitState(t *testing.T, pid int, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for procState(pid) != want {
		if time.Now().After(deadline) {
			t.Fatalf("vitals (pid %d) is in state %q after %v, want %q", pid, procState(pid), timeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitGone waits until pid has exited (and been reaped, or is a zombie).
func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if st := procState(pid); st == "" || st == "Z" {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// terminalModes is what tmux knows of the pane's terminal modes.
func terminalModes(s *session) string {
	return s.display("alt=#{alternate_on} cursor=#{cursor_flag} mouse=#{mouse_any_flag}")
}

func waitModes(t *testing.T, s *session, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := terminalModes(s)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("terminal modes %q after %v, want %q; screen:\n%s", got, timeout, want, s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An external SIGTSTP and Ctrl-Z each hand the terminal back as it was
// (alternate screen off, cursor shown, mouse off) before vitals stops, and
// fg brings it back with the keys working, as htop does. The shell is an
// interactive bash, so vitals is a job of its own.
func TestSuspendAndResume(t *testing.T) {
	bin := vitalsBinary(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	s := newSession(t, 100, 30, "env PS1='$ ' bash --norc --noprofile -i")
	waitFor(t, s, "$", 5*time.Second)
	keys(s, shellQuote(bin)+"; echo VITALS-DONE", "Enter")
	waitForAll(t, s, 8*time.Second, "PID", "%CPU")
	pid := vitalsPID(t, bin, 3*time.Second)
	running := "alt=1 cursor=0 mouse=1"
	restored := "alt=0 cursor=1 mouse=0"
	waitModes(t, s, running, 3*time.Second)

	stopAndResume := func(how string, stop func(), tab, want string) {
		t.Helper()
		stop()
		waitState(t, pid, "T", 3*time.Second)
		waitModes(t, s, restored, 3*time.Second)
		waitFor(t, s, "Stopped", 3*time.Second)
		keys(s, "fg", "Enter")
		waitModes(t, s, running, 3*time.Second)
		// Keys reach vitals again.
		keys(s, tab)
		scr := waitForAll(t, s, 4*time.Second, want)
		if !strings.Contains(scr, "vitals") {
			t.Fatalf("after %s and fg the header is missing:\n%s", how, scr)
		}
	}
	stopAndResume("kill -TSTP", func() {
		if err := syscall.Kill(pid, syscall.SIGTSTP); err != nil {
			t.Fatal(err)
		}
	}, "2", "RSS▼")
	stopAndResume("Ctrl-Z", func() { keys(s, "C-z") }, "1", "%CPU")

	// A stop vitals could not see coming (SIGSTOP) leaves the terminal as
	// it was, but fg (SIGCONT) still brings back a whole screen in raw
	// mode with working keys: vitals takes the terminal again.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, pid, "T", 3*time.Second)
	// bash reports it over vitals' screen, still the alternate one.
	waitFor(t, s, "Stopped", 3*time.Second)
	keys(s, "fg", "Enter")
	waitModes(t, s, running, 3*time.Second)
	keys(s, "2")
	scr := waitForAll(t, s, 4*time.Second, "RSS▼")
	if lines := strings.Split(scr, "\n"); !strings.HasPrefix(lines[0], "vitals") {
		t.Fatalf("after SIGSTOP and fg the first line is not the header:\n%s", scr)
	}

	keys(s, "q")
	waitFor(t, s, "VITALS-DONE", 5*time.Second)
	waitModes(t, s, restored, 3*time.Second)
}

// A vitals whose terminal goes away without a SIGHUP reaching it (here it
// runs in a session of its own, as under su or setsid) ends within seconds
// when the pane is destroyed, instead of running on for ever.
func TestTerminalGoneEndsVitals(t *testing.T) {
	bin := vitalsBinary(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid is not installed")
	}
	s := newSession(t, 80, 24, "setsid -w "+shellQuote(bin))
	waitForAll(t, s, 8*time.Second, "PID", "%CPU")
	pid := vitalsPID(t, bin, 3*time.Second)
	if _, err := s.tmux("kill-server"); err != nil {
		t.Fatalf("tmux kill-server: %v", err)
	}
	if !waitGone(pid, 5*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("vitals (pid %d) still runs 5 s after its terminal went away", pid)
	}
}

// bpfProgramsOf lists the ids of the BPF programs pid holds fds of.
func bpfProgramsOf(pid int) []uint32 {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, _ := os.ReadDir(dir)
	var ids []uint32
	for _, e := range ents {
		if link, err := os.Readlink(filepath.Join(dir, e.Name())); err != nil || link != "anon_inode:bpf-prog" {
			continue
		}
		info, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "fdinfo", e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "prog_id:"); ok {
				if id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32); err == nil {
					ids = append(ids, uint32(id))
				}
			}
		}
	}
	return ids
}

// SIGTERM 100–400 ms after start, while the probes load, scan and drain
// for the first frame, twenty times: every run exits 0, prints no Go crash
// ("fatal error: concurrent map read and map write" was one), and leaves
// none of its BPF programs loaded.
func TestSigtermDuringStartupManyTimes(t *testing.T) {
	bin := vitalsBinary(t)
	dir := t.TempDir()
	const runs = 20
	script := filepath.Join(dir, "loop.sh")
	body := fmt.Sprintf(`for i in $(seq %d); do
  %s </dev/null 2>>%s/stderr & echo $! > %s/pid.$i
  wait $!; echo "$i $?" >> %s/rc
done
echo LOOP-DONE
sleep 30
`, runs, shellQuote(bin), dir, dir, dir)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	s := newSession(t, 80, 24, "sh "+shellQuote(script))
	root := os.Geteuid() == 0
	var loaded []uint32
	for i := 1; i <= runs; i++ {
		var pid int
		deadline := time.Now().Add(10 * time.Second)
		for {
			if b, err := os.ReadFile(filepath.Join(dir, "pid."+strconv.Itoa(i))); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
				pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d did not start; screen:\n%s", i, s.screen())
			}
			time.Sleep(5 * time.Millisecond)
		}
		delay := time.Duration(100+(i*149)%301) * time.Millisecond
		time.Sleep(delay)
		loaded = append(loaded, bpfProgramsOf(pid)...)
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatal(err)
		}
		if !waitGone(pid, 10*time.Second) {
			t.Fatalf("run %d: vitals still running 10 s after SIGTERM at %v", i, delay)
		}
	}
	waitFor(t, s, "LOOP-DONE", 10*time.Second)
	rcs, _ := os.ReadFile(filepath.Join(dir, "rc"))
	for _, line := range strings.Split(strings.TrimSpace(string(rcs)), "\n") {
		if f := strings.Fields(line); len(f) != 2 || f[1] != "0" {
			t.Errorf("run %s exited %s, want 0", f[0], f[len(f)-1])
		}
	}
	if n := len(strings.Split(strings.TrimSpace(string(rcs)), "\n")); n != runs {
		t.Errorf("%d runs ended, want %d", n, runs)
	}
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr"))
	for _, bad := range []string{"fatal error", "panic", "DATA RACE", "goroutine "} {
		if strings.Contains(string(stderr), bad) {
			t.Fatalf("a run printed %q:\n%s", bad, stderr)
		}
	}
	if root && len(loaded) == 0 {
		t.Logf("no run had loaded BPF programs by the time of its SIGTERM")
	}
	// The kernel frees a program after its last fd closes, from a work
	// queue: under load that can take a moment.
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range loaded {
		for {
			p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id))
			if err != nil {
				break
			}
			p.Close()
			if time.Now().After(deadline) {
				t.Errorf("BPF program %d of a run is still loaded 10 s after the runs ended", id)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("%d BPF programs checked", len(loaded))
}

// A storm of resizes ends with the whole screen right: header first,
// footer last, no line wider than the pane.
func TestResizeStormInTmux(t *testing.T) {
	bin := vitalsBinary(t)
	s := newSession(t, 80, 24, shellQuote(bin)+"; echo "+exitMarker+" rc=$?; sleep 30")
	waitForAll(t, s, 8*time.Second, "PID", "%CPU")
	for i := 0; i < 60; i++ {
		s.resize(40+(i*37)%140, 10+(i*13)%40)
	}
	s.resize(100, 30)
	time.Sleep(500 * time.Millisecond)
	scr := waitUntil(t, s, "the header on the first line and the tab bar on the second", 3*time.Second, func(scr string) bool {
		lines := strings.Split(scr, "\n")
		return len(lines) > 2 && strings.HasPrefix(lines[0], "vitals") && strings.Contains(lines[1], "1 CPU")
	})
	if w, line := widestLine(scr); w > 100 {
		t.Fatalf("a line is %d cells in a 100-column pane: %q", w, line)
	}
	assertAlive(t, s, "after the resize storm")
	keys(s, "q")
	waitFor(t, s, exitMarker+" rc=0", 3*time.Second)
}

// snapshot with standard output closed has nowhere to write: it fails
// instead of losing the JSON silently (Go puts /dev/null on a closed
// standard descriptor at start-up).
func TestSnapshotWithStdoutClosedFails(t *testing.T) {
	bin := vitalsBinary(t)
	out, err := exec.Command("sh", "-c", shellQuote(bin)+" snapshot --json --interval 100ms >&-").CombinedOutput()
	if err == nil {
		t.Fatalf("snapshot with stdout closed exited 0; output %q", out)
	}
	if !strings.Contains(string(out), "standard output") {
		t.Errorf("snapshot with stdout closed: %q does not say what is wrong", out)
	}
	// Discarding the output on purpose is not an error.
	if out, err := exec.Command("sh", "-c", shellQuote(bin)+" snapshot --json --interval 100ms >/dev/null").CombinedOutput(); err != nil {
		t.Errorf("snapshot >/dev/null: %v %q", err, out)
	}
}

// Under ulimit -n 32 the snapshot still reads every probe: the scanner
// keeps headroom for everything else and reads by open/read/close (it used
// to take half the limit: "2119 of 2122 processes unreadable … too many
// open files").
//
// Every eBPF program, map, link and ring buffer is an fd too: with the
// eBPF features loaded (as root: six features, the task iterator among
// them) the floor is higher, so the limit of 32 is tried with the procfs
// tier and 256 with everything.
func TestSnapshotUnderSmallFDLimit(t *testing.T) {
	bin := vitalsBinary(t)
	for _, c := range []struct{ limit, flags string }{{"32", " --bpf-tier procfs"}, {"256", ""}} {
		out, err := exec.Command("sh", "-c", "ulimit -n "+c.limit+" && exec "+shellQuote(bin)+" snapshot --json --interval 200ms"+c.flags).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("snapshot under ulimit -n %s%s: %v\n%s", c.limit, c.flags, err, stderr)
		}
		if n := strings.Count(string(out), `"start_ticks"`); n < 10 {
			t.Fatalf("snapshot under ulimit -n %s%s lists %d processes", c.limit, c.flags, n)
		}
	}
}
