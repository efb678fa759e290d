package ebpf

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

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
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
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
	cmd := ebpftest.Command("pidns:" + inside)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS}
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
	defer cmd.Wait()
	defer stdin.Close()
	lines := bufio.NewReader(stdout)
	if l, err := lines.ReadString('\n'); strings.TrimSpace(l) != "ready" {
		t.Fatalf("pidns child: %q, %v", l, err)
	}
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
