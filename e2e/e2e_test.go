// Package e2e runs the real vitals binary the way a person does: in a
// terminal (tmux, driven with send-keys and read with capture-pane), and on
// the command line. It builds the binary from the module root once per run.
//
// Without tmux the terminal test is skipped, unless CI is set: then a
// missing tmux is a failure, so CI cannot pass by skipping.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// exitMarker is printed by the pane's shell when vitals exits, with its
// exit code; its presence means vitals is no longer running.
const exitMarker = "VITALS-EXITED"

var (
	tmpRoot   string
	buildOnce sync.Once
	binPath   string
	buildErr  error
	sessions  atomic.Int64
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vitals-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// vitalsBinary builds vitals from the module root (once) and returns its path.
func vitalsBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			buildErr = fmt.Errorf("go env GOMOD: not inside a module (%q)", gomod)
			return
		}
		binPath = filepath.Join(tmpRoot, "vitals")
		build := exec.Command("go", "build", "-o", binPath, ".")
		build.Dir = filepath.Dir(gomod)
		if out, err := build.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build -o %s . in %s: %w\n%s", binPath, build.Dir, err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// --- tmux helpers -------------------------------------------------------------

// session is one detached tmux session on a tmux server of its own (its own
// socket in the test's temp dir, no user config), so tests neither see nor
// disturb the user's tmux and leave no socket behind.
type session struct {
	t      *testing.T
	socket string
	name   string
}

// newSession starts command in a detached width x height tmux session that
// is killed when the test ends.
func newSession(t *testing.T, width, height int, command string) *session {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed; CI must have it (apt-get install tmux)")
		}
		t.Skip("tmux is not installed")
	}
	n := sessions.Add(1)
	name := fmt.Sprintf("vitals-e2e-%d-%d-%s", os.Getpid(), n, sanitizeName(t.Name()))
	s := &session{t: t, socket: filepath.Join(tmpRoot, fmt.Sprintf("tmux-%d", n)), name: name}
	t.Cleanup(func() {
		_, _ = s.tmux("kill-session", "-t", s.name)
		_, _ = s.tmux("kill-server")
	})
	if out, err := s.tmux("new-session", "-d", "-s", s.name,
		"-x", fmt.Sprint(width), "-y", fmt.Sprint(height), command); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	return s
}

// sanitizeName keeps what tmux accepts in a session name (no '.' or ':').
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func (s *session) tmux(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	full := append([]string{"-S", s.socket, "-f", os.DevNull}, args...)
	cmd := exec.CommandContext(ctx, "tmux", full...)
	// The server takes its default shell from SHELL: make it sh, so the
	// pane's command line ("$?") means the same for every user.
	cmd.Env = append(os.Environ(), "SHELL=/bin/sh")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// screen is the visible pane, wrapped lines joined (-J), so a line that
// overflowed the width shows as one long line.
func (s *session) screen() string {
	s.t.Helper()
	out, err := s.tmux("capture-pane", "-p", "-J", "-t", s.name)
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return out
}

// screenWithHistory adds the scrollback of the normal screen: after vitals
// exits, a panic trace may have scrolled out of a small pane.
func (s *session) screenWithHistory() string {
	s.t.Helper()
	out, err := s.tmux("capture-pane", "-p", "-J", "-S", "-500", "-t", s.name)
	if err != nil {
		s.t.Fatalf("tmux capture-pane: %v\n%s", err, out)
	}
	return out
}

func (s *session) display(format string) string {
	s.t.Helper()
	out, err := s.tmux("display-message", "-p", "-t", s.name, format)
	if err != nil {
		s.t.Fatalf("tmux display %s: %v\n%s", format, err, out)
	}
	return strings.TrimSpace(out)
}

func (s *session) resize(width, height int) {
	s.t.Helper()
	if out, err := s.tmux("resize-window", "-t", s.name, "-x", fmt.Sprint(width), "-y", fmt.Sprint(height)); err != nil {
		s.t.Fatalf("tmux resize-window %dx%d: %v\n%s", width, height, err, out)
	}
}

// keys sends tmux key names ("q", "Tab", "BTab", "Escape", "C-c") one at a
// time, as separate keystrokes.
func keys(s *session, names ...string) {
	s.t.Helper()
	for _, k := range names {
		if out, err := s.tmux("send-keys", "-t", s.name, k); err != nil {
			s.t.Fatalf("tmux send-keys %s: %v\n%s", k, err, out)
		}
	}
}

// waitUntil polls the screen every 100 ms until ok accepts it. It fails at
// the timeout, or at once if vitals has exited and the test is not waiting
// for that, showing the last screen.
func waitUntil(t *testing.T, s *session, what string, timeout time.Duration, ok func(screen string) bool) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		scr := s.screen()
		if ok(scr) {
			return scr
		}
		if strings.Contains(scr, exitMarker) && !strings.Contains(what, exitMarker) {
			t.Fatalf("vitals exited while waiting for %s; screen:\n%s", what, s.screenWithHistory())
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the screen still lacks %s; screen:\n%s", timeout, what, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitFor waits until the screen contains substring.
func waitFor(t *testing.T, s *session, substring string, timeout time.Duration) string {
	t.Helper()
	return waitUntil(t, s, fmt.Sprintf("%q", substring), timeout, func(scr string) bool {
		return strings.Contains(scr, substring)
	})
}

// waitForAll waits until the screen contains every substring.
func waitForAll(t *testing.T, s *session, timeout time.Duration, substrings ...string) string {
	t.Helper()
	return waitUntil(t, s, fmt.Sprintf("%q", substrings), timeout, func(scr string) bool {
		for _, sub := range substrings {
			if !strings.Contains(scr, sub) {
				return false
			}
		}
		return true
	})
}

// widestLine is the display width of the longest line, trailing blanks
// ignored.
func widestLine(screen string) (int, string) {
	w, line := 0, ""
	for _, l := range strings.Split(screen, "\n") {
		l = strings.TrimRight(l, " ")
		if lw := ansi.StringWidth(l); lw > w {
			w, line = lw, l
		}
	}
	return w, line
}

// assertAlive checks that vitals is still running: the shell has not
// printed its exit marker, nothing printed a panic, and a live process
// named vitals runs under the pane's shell.
func assertAlive(t *testing.T, s *session, when string) {
	t.Helper()
	scr := s.screenWithHistory()
	if strings.Contains(scr, exitMarker) || strings.Contains(scr, "panic") {
		t.Fatalf("%s: vitals died; screen:\n%s", when, scr)
	}
	panePID, err := strconv.Atoi(s.display("#{pane_pid}"))
	if err != nil {
		t.Fatalf("%s: tmux pane_pid: %v", when, err)
	}
	if !vitalsUnder(panePID) {
		t.Fatalf("%s: no live vitals process under the pane's shell (pid %d); screen:\n%s", when, panePID, scr)
	}
}

// vitalsUnder reports whether a live (not zombie) process whose comm is
// "vitals" descends from pid, reading /proc/PID/stat.
func vitalsUnder(pid int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	type proc struct {
		ppid        int
		comm, state string
	}
	procs := map[int]proc{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		open, closing := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || closing < open {
			continue
		}
		rest := strings.Fields(string(b[closing+1:]))
		if len(rest) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(rest[1])
		procs[n] = proc{ppid: ppid, comm: string(b[open+1 : closing]), state: rest[0]}
	}
	for n, p := range procs {
		if p.comm != "vitals" || p.state == "Z" {
			continue
		}
		for a, hops := procs[n].ppid, 0; a > 1 && hops < 64; a, hops = procs[a].ppid, hops+1 {
			if a == pid {
				return true
			}
		}
	}
	return false
}

// shellQuote quotes a path for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// --- the terminal test ------------------------------------------------------

func TestTUIInTmux(t *testing.T) {
	bin := vitalsBinary(t)
	s := newSession(t, 80, 24, shellQuote(bin)+"; echo "+exitMarker+" rc=$?; sleep 30")

	// 1. Header, tab bar, process table.
	waitForAll(t, s, 5*time.Second, "vitals", "CPU", "Memory", "Cache", "Disk", "Net")
	waitForAll(t, s, 4*time.Second, "PID", "%CPU")

	// backToCPU returns to the CPU tab and waits until no placeholder is
	// left, so the next "coming" is really the next tab's.
	backToCPU := func(key string) {
		t.Helper()
		keys(s, key)
		waitUntil(t, s, `"%CPU" without "coming"`, 2*time.Second, func(scr string) bool {
			return strings.Contains(scr, "%CPU") && !strings.Contains(scr, "coming")
		})
	}

	// 2. Tabs by number, Tab and Shift-Tab. The Memory tab shows the
	// free-like bar and the table sorted by RSS.
	keys(s, "2")
	waitForAll(t, s, 4*time.Second, "mem [", "avail", "RSS▼", "v: ")
	// v cycles the lower panel: cgroups, slab, zones, back to processes.
	keys(s, "v")
	waitForAll(t, s, 3*time.Second, "CGROUP", "WORKSET")
	keys(s, "v")
	// Slab caches are root-only: as root the table, otherwise the reason.
	waitUntil(t, s, `slab panel ("CACHE SIZE" or "needs root")`, 3*time.Second, func(scr string) bool {
		return strings.Contains(scr, "CACHE SIZE") || strings.Contains(scr, "needs root")
	})
	keys(s, "v")
	waitForAll(t, s, 3*time.Second, "watermarks", "high")
	keys(s, "v")
	waitForAll(t, s, 3*time.Second, "RSS▼")
	// The Cache tab: eBPF with its tier as root, the labelled estimate
	// otherwise; either way the cachetop columns.
	backToCPU("1")
	keys(s, "3")
	waitForAll(t, s, 4*time.Second, "HITS", "READ_HIT%")
	waitUntil(t, s, `cache source ("eBPF, tier" or "ESTIMATE")`, 4*time.Second, func(scr string) bool {
		return strings.Contains(scr, "eBPF, tier") || strings.Contains(scr, "ESTIMATE")
	})
	// The Disk and Net tabs: iostat's and sar's columns.
	for _, tab := range []struct {
		key  string
		want []string
	}{{"4", []string{"DEVICE", "r_await", "%util"}}, {"5", []string{"IFACE", "rxpck/s", "txB/s"}}} {
		backToCPU("1")
		keys(s, tab.key)
		waitForAll(t, s, 4*time.Second, tab.want...)
	}
	backToCPU("1")
	keys(s, "Tab")
	waitForAll(t, s, 2*time.Second, "mem [", "RSS▼")
	backToCPU("BTab")

	// 3. Help overlay: it explains the columns and where numbers come from.
	// The CPU tab itself may mention /proc, so compare counts.
	before := strings.Count(s.screen(), "/proc")
	keys(s, "?")
	waitUntil(t, s, `help overlay with "%CPU" and "/proc"`, 2*time.Second, func(scr string) bool {
		return strings.Contains(scr, "%CPU") && strings.Count(scr, "/proc") > before
	})
	keys(s, "Escape")
	waitUntil(t, s, "the help overlay closed", 2*time.Second, func(scr string) bool {
		return strings.Contains(scr, "%CPU") && strings.Count(scr, "/proc") <= before
	})

	// 4. Resizing: wide, small, tiny, and back.
	s.resize(160, 48)
	if got := s.display("#{window_width}x#{window_height}"); got != "160x48" {
		t.Fatalf("tmux window is %s after resize-window -x 160 -y 48", got)
	}
	time.Sleep(700 * time.Millisecond) // let vitals see SIGWINCH and redraw
	waitUntil(t, s, `"%CPU" in lines of at most 160 columns`, 3*time.Second, func(scr string) bool {
		w, _ := widestLine(scr)
		return strings.Contains(scr, "%CPU") && w <= 160
	})
	if w, _ := widestLine(s.screen()); w <= 80 {
		t.Logf("at 160x48 no line is wider than 80 columns (widest %d): the layout may not use the width", w)
	}
	for _, size := range [][2]int{{40, 12}, {20, 5}} {
		s.resize(size[0], size[1])
		time.Sleep(700 * time.Millisecond)
		assertAlive(t, s, fmt.Sprintf("at %dx%d", size[0], size[1]))
	}
	s.resize(80, 24)
	waitFor(t, s, "%CPU", 3*time.Second)
	assertAlive(t, s, "back at 80x24")

	// 5. Quit: exit code 0 and the terminal restored (alternate screen off).
	keys(s, "q")
	waitFor(t, s, exitMarker+" rc=0", 3*time.Second)
	if alt := s.display("#{alternate_on}"); alt != "0" {
		t.Fatalf("after q, #{alternate_on} = %q, want 0 (terminal not restored)", alt)
	}
}

// --- the command-line tests ---------------------------------------------------

// run runs vitals with args, no stdin and a 10 s limit.
func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin := vitalsBinary(t) // before the clock starts: the first call builds
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("vitals %s: still running after 10 s (killed)", strings.Join(args, " "))
	}
	return out.String(), errOut.String(), err
}

func TestSnapshotJSON(t *testing.T) {
	// A process the snapshot must list, started before both scans.
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	t.Cleanup(func() {
		_ = sleeper.Process.Kill()
		_ = sleeper.Wait()
	})

	stdout, stderr, err := run(t, "snapshot", "--json", "--interval", "500ms")
	if err != nil {
		t.Fatalf("vitals snapshot --json --interval 500ms: %v\nstderr:\n%s", err, stderr)
	}
	var snap struct {
		CPU *struct {
			Count int                `json:"count"`
			Total map[string]float64 `json:"total"`
		} `json:"cpu"`
		Memory *struct {
			Total     uint64   `json:"total_bytes"`
			Used      uint64   `json:"used_bytes"`
			Available *float64 `json:"available_bytes"`
			Swap      struct {
				Total uint64 `json:"total_bytes"`
			} `json:"swap"`
			VM map[string]*float64 `json:"vmstat"`
		} `json:"memory"`
		Processes []struct {
			PID       int      `json:"pid"`
			Comm      string   `json:"comm"`
			RSS       uint64   `json:"rss_bytes"`
			PSS       *float64 `json:"pss_bytes"`
			MemDetail string   `json:"mem_detail"`
		} `json:"processes"`
	}
	if err := json.Unmarshal([]byte(stdout), &snap); err != nil {
		t.Fatalf("snapshot output is not JSON: %v\n%s", err, stdout)
	}
	if snap.CPU == nil {
		t.Fatalf("snapshot has no cpu object:\n%s", stdout)
	}
	if snap.CPU.Count != runtime.NumCPU() {
		t.Errorf("cpu.count = %d, want runtime.NumCPU() = %d", snap.CPU.Count, runtime.NumCPU())
	}
	sum := 0.0
	for _, f := range []string{"user", "nice", "system", "iowait", "irq", "softirq", "steal", "idle"} {
		v, ok := snap.CPU.Total[f]
		if !ok {
			t.Errorf("cpu.total has no %q: %v", f, snap.CPU.Total)
		}
		sum += v
	}
	// vitals, like mpstat, reports guest time apart from user (and
	// guest_nice apart from nice), so on a host running VMs those complete
	// the 100 %; elsewhere they are 0.
	sum += snap.CPU.Total["guest"] + snap.CPU.Total["guest_nice"]
	if math.Abs(sum-100) > 0.5 {
		t.Errorf("cpu.total fields sum to %.3f, want 100 ± 0.5: %v", sum, snap.CPU.Total)
	}
	// memory.*: total equals /proc/meminfo's MemTotal; used is below it.
	if snap.Memory == nil {
		t.Fatalf("snapshot has no memory object")
	}
	meminfo, _ := os.ReadFile("/proc/meminfo")
	var totalKB uint64
	fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(meminfo), "\n", 2)[0], "MemTotal:")), "%d", &totalKB)
	if snap.Memory.Total != totalKB*1024 || snap.Memory.Used == 0 || snap.Memory.Used >= snap.Memory.Total {
		t.Errorf("memory total %d used %d, /proc/meminfo MemTotal %d kB", snap.Memory.Total, snap.Memory.Used, totalKB)
	}
	for _, k := range []string{"swap_in_pages_per_s", "page_out_kb_per_s", "pgscan_direct_per_s"} {
		if _, ok := snap.Memory.VM[k]; !ok {
			t.Errorf("memory.vmstat.%s missing", k)
		}
	}
	found := false
	for _, p := range snap.Processes {
		if p.PID == sleeper.Process.Pid {
			found = true
			if p.Comm != "sleep" {
				t.Errorf("process %d: comm = %q, want \"sleep\"", p.PID, p.Comm)
			}
			// The snapshot reads smaps_rollup for every process.
			if p.RSS == 0 || p.PSS == nil || p.MemDetail != "fresh" {
				t.Errorf("sleep: rss %d pss %v detail %q; want its memory details read", p.RSS, p.PSS, p.MemDetail)
			}
		}
	}
	if !found {
		t.Errorf("processes[] (%d entries) has no pid %d (the test's sleep 30)", len(snap.Processes), sleeper.Process.Pid)
	}
}

func TestCommandLine(t *testing.T) {
	t.Run("version", func(t *testing.T) {
		stdout, stderr, err := run(t, "--version")
		if err != nil {
			t.Fatalf("vitals --version: %v\nstderr:\n%s", err, stderr)
		}
		if !strings.Contains(stdout, "vitals") {
			t.Errorf("vitals --version printed %q, want it to contain \"vitals\"", stdout)
		}
	})
	t.Run("unknown flag", func(t *testing.T) {
		_, stderr, err := run(t, "--bogus")
		if err == nil {
			t.Fatal("vitals --bogus exited 0, want an error")
		}
		if !strings.Contains(stderr, "bogus") {
			t.Errorf("vitals --bogus: stderr %q does not name the flag", stderr)
		}
	})
	t.Run("zero interval", func(t *testing.T) {
		_, stderr, err := run(t, "--interval", "0")
		if err == nil {
			t.Fatal("vitals --interval 0 exited 0, want an error")
		}
		if !strings.Contains(stderr, "interval") {
			t.Errorf("vitals --interval 0: stderr %q does not say what is wrong with the interval", stderr)
		}
	})
}

// SIGTERM, SIGHUP (the pane closes) and SIGINT each end vitals at once with
// exit status 0 and the terminal restored. bubbletea's own signal handler
// used to race vitals' for the same signal and hang the exit.
func TestSignalsEndCleanly(t *testing.T) {
	bin := vitalsBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s := newSession(t, 80, 24, shellQuote(bin)+"; echo "+exitMarker+" rc=$?; sleep 30")
			waitForAll(t, s, 5*time.Second, "PID", "%CPU")
			out, err := exec.Command("pgrep", "-f", "^"+bin+"$").Output()
			if err != nil {
				t.Fatalf("pgrep: %v", err)
			}
			for _, f := range strings.Fields(string(out)) {
				pid, _ := strconv.Atoi(f)
				if err := syscall.Kill(pid, sig); err != nil {
					t.Fatalf("kill %d: %v", pid, err)
				}
			}
			waitForAll(t, s, 3*time.Second, exitMarker+" rc=0")
		})
	}
}
