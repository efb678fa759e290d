package ebpf

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"

	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// pidnsReport is what the pidns child prints: the pid its own reader had
// in the namespace, and the rows cachestat drained there.
type pidnsReport struct {
	Translates bool         `json:"translates"`
	ReaderPID  int32        `json:"reader_pid"`
	Rows       []ProcCounts `json:"rows"`
	Lost       Lost         `json:"lost"`
}

// pidnsChild runs as pid 1 of a new PID and mount namespace, with its own
// /proc, as vitals would in a container: it loads cachestat, runs a reader
// of args' first file, says "ready", waits while the parent reads the
// second file from outside, and prints what it drained.
func pidnsChild(args string) error {
	inside, _, _ := strings.Cut(args, ":")
	if err := mountOwnProc(); err != nil {
		return err
	}
	sess := NewSession()
	c, rep, err := OpenCacheStat(sess, CacheStatOptions{})
	if err != nil {
		return fmt.Errorf("%v\n%s", err, rep)
	}
	defer c.Close()
	if _, _, err := c.Drain(); err != nil {
		return err
	}
	reader := ebpftest.Command("read:" + inside + ":4096")
	if out, err := reader.CombinedOutput(); err != nil {
		return fmt.Errorf("reader: %v\n%s", err, out)
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("wait for the parent: %w", err)
	}
	rows, lost, err := c.Drain()
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(pidnsReport{
		Translates: sess.TranslatesPIDs(),
		ReaderPID:  int32(reader.Process.Pid),
		Rows:       rows,
		Lost:       lost,
	})
}

// mountOwnProc gives this process (pid 1 of a new PID and mount namespace)
// a /proc of its namespace, as `unshare --pid --fork --mount-proc` does.
func mountOwnProc() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
}

// inNewPIDNamespace is the test binary run with spec as pid 1 of a new PID
// and mount namespace.
func inNewPIDNamespace(spec string) *exec.Cmd {
	cmd := ebpftest.Command(spec)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS}
	return cmd
}

// startReadyInNewPIDNamespace starts spec in a new PID namespace and
// waits for its "ready"; the child gets stdin's lines and exits when the
// test ends (stdin closed, then waited for).
func startReadyInNewPIDNamespace(t *testing.T, spec string) (io.Writer, *bufio.Reader) {
	t.Helper()
	cmd := inNewPIDNamespace(spec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	lines := bufio.NewReader(stdout)
	if l, err := lines.ReadString('\n'); strings.TrimSpace(l) != "ready" {
		t.Fatalf("pidns child %s: %q, %v", spec, l, err)
	}
	return stdin, lines
}

// pidnsIterChild runs the task iterator as pid 1 of a new namespace with a
// child of its own alive, and prints the processes it reported with those
// its /proc lists.
func pidnsIterChild(string) error {
	if err := mountOwnProc(); err != nil {
		return err
	}
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		return err
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	it, rep, err := OpenTaskIter(NewSession(), LoadOptions{})
	if err != nil {
		return fmt.Errorf("%v\n%s", err, rep)
	}
	defer it.Close()
	buf, err := it.Read(make([]uint64, 4096))
	if err != nil {
		return err
	}
	out := struct {
		Sleeper int32             `json:"sleeper"`
		Iter    map[uint32]uint32 `json:"iter"` // tgid: ppid
		Proc    []string          `json:"proc"`
	}{Sleeper: int32(sleeper.Process.Pid), Iter: map[uint32]uint32{}}
	for _, r := range Records(buf) {
		if r.Tid == r.Tgid {
			out.Iter[r.Tgid] = r.Ppid
		}
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			out.Proc = append(out.Proc, e.Name())
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// The task iterator inside a child PID namespace reports the namespace's
// pids, the ones its /proc lists (before, it fell back to procfs there).
func TestTaskIterPIDNamespace(t *testing.T) {
	requirePrivileged(t)
	out, err := inNewPIDNamespace("pidns-iter:").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got struct {
		Sleeper int32             `json:"sleeper"`
		Iter    map[uint32]uint32 `json:"iter"`
		Proc    []string          `json:"proc"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var iter []string
	for pid := range got.Iter {
		iter = append(iter, strconv.Itoa(int(pid)))
	}
	slices.Sort(iter)
	slices.Sort(got.Proc)
	if !slices.Equal(iter, got.Proc) {
		t.Errorf("the iterator reports processes %v, the namespace's /proc lists %v", iter, got.Proc)
	}
	if ppid, ok := got.Iter[uint32(got.Sleeper)]; !ok || ppid != 1 {
		t.Errorf("the sleeper (pid %d) has ppid %d (seen %v), want 1", got.Sleeper, ppid, ok)
	}
	if ppid := got.Iter[1]; ppid != 0 {
		t.Errorf("the namespace's init has ppid %d, want 0 as /proc says", ppid)
	}
}

// Inside a child PID namespace, the kernel's tgids are the host's, and the
// /proc vitals reads numbers processes differently: cachestat must give
// each process its pid in that namespace, and a host process must not
// appear as one of the namespace's (issue 13 item 4: a host reader's hits
// showed on the namespace's `sleep 600`).
func TestCacheStatPIDNamespace(t *testing.T) {
	requirePrivileged(t)
	dir := ebpftest.WorkDir(t)
	inside, outside := filepath.Join(dir, "inside"), filepath.Join(dir, "outside")
	for _, p := range []string{inside, outside} {
		if err := os.WriteFile(p, make([]byte, 64<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdin, lines := startReadyInNewPIDNamespace(t, "pidns:"+inside)
	// A host process reads the other file while the namespace's vitals
	// counts: its host pid must not show there.
	hostPID := ebpftest.Run(t, "read:"+outside+":4096")
	fmt.Fprintln(stdin, strconv.Itoa(int(hostPID)))
	var rep pidnsReport
	if err := json.NewDecoder(lines).Decode(&rep); err != nil {
		t.Fatalf("pidns child report: %v", err)
	}
	if !rep.Translates {
		t.Fatal("inside a new PID namespace the session does not translate pids")
	}
	// The namespace holds only its init (the child, pid 1) and its reader.
	var reader, outsideRow *ProcCounts
	for i := range rep.Rows {
		r := &rep.Rows[i]
		switch r.PID {
		case rep.ReaderPID:
			reader = r
		case OutsideNamespace:
			outsideRow = r
		case 1:
		default:
			t.Errorf("row with pid %d (%s): not a process of the namespace (its pids are 1 and %d; the host reader is %d)",
				r.PID, r.Comm, rep.ReaderPID, hostPID)
		}
	}
	const pages = 16
	if reader == nil || reader.Accessed < pages {
		t.Errorf("the namespace's reader (pid %d there) has %+v, want at least %d pages accessed", rep.ReaderPID, reader, pages)
	}
	if outsideRow == nil || outsideRow.Accessed < pages {
		t.Errorf("processes outside the namespace have %+v, want at least the host reader's %d pages", outsideRow, pages)
	}
	t.Logf("reader pid %d in the namespace: %d pages; outside: %+v", rep.ReaderPID, reader.Accessed, outsideRow)
}

// pidnsEventsChild loads procevents as pid 1 of a new namespace, runs three
// `true`s, says "ready", waits while the parent runs three outside, and
// prints the exec and exit events of `true` it got with its own pids.
func pidnsEventsChild(string) error {
	if err := mountOwnProc(); err != nil {
		return err
	}
	p, rep, err := OpenProcEvents(NewSession(), LoadOptions{})
	if err != nil {
		return fmt.Errorf("%v\n%s", err, rep)
	}
	defer p.Close()
	rd, err := ringbuf.NewReader(p.Ring())
	if err != nil {
		return err
	}
	defer rd.Close()
	var out struct {
		Mine   []int32  `json:"mine"`
		Events []string `json:"events"` // "exec 3", "exit 3"
	}
	for range 3 {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			return err
		}
		out.Mine = append(out.Mine, int32(cmd.Process.Pid))
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return err
	}
	rd.SetDeadline(time.Now().Add(time.Second))
	for {
		rec, err := rd.Read()
		if err != nil {
			break
		}
		var ev model.Event
		if DecodeProcEvent(rec.RawSample, &ev) && ev.Comm == "true" {
			out.Events = append(out.Events, fmt.Sprintf("%s %d", ev.Kind, ev.PID))
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// Exec and exit events inside a child PID namespace carry its pids, and the
// host's processes are not reported as its own.
func TestProcEventsPIDNamespace(t *testing.T) {
	requirePrivileged(t)
	stdin, lines := startReadyInNewPIDNamespace(t, "pidns-events:")
	var host []string
	for range 3 {
		c := exec.Command("true")
		if err := c.Run(); err != nil {
			t.Fatal(err)
		}
		host = append(host, strconv.Itoa(c.Process.Pid))
	}
	fmt.Fprintln(stdin, "go")
	var got struct {
		Mine   []int32  `json:"mine"`
		Events []string `json:"events"`
	}
	if err := json.NewDecoder(lines).Decode(&got); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, pid := range got.Mine {
		want = append(want, fmt.Sprintf("exec %d", pid), fmt.Sprintf("exit %d", pid))
	}
	slices.Sort(want)
	slices.Sort(got.Events)
	if !slices.Equal(got.Events, want) {
		t.Errorf("events of `true` in the namespace: %v, want %v (the host's were pids %v)", got.Events, want, host)
	}
}
