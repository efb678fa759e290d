package probes

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// startTicksOf reads field 22 of /proc/PID/stat with plain string handling,
// independently of the scanner's parser.
func startTicksOf(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	v, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func waitSignalled(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("wait: %v", err)
		}
		if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
			t.Fatalf("child ended with %v, want killed by %v", ws, sig)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("child still running 5 s after %v", sig)
	}
}

func testSignalProcess(t *testing.T) {
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	key := model.ProcKey{PID: int32(pid), StartTicks: startTicksOf(t, pid)}

	wrong := key
	wrong.StartTicks++
	err := SignalProcess("/proc", wrong, int(syscall.SIGTERM))
	if err == nil || err.Error() != "pid "+strconv.Itoa(pid)+" now belongs to another process" {
		t.Fatalf("wrong start time: err = %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("child gone after a refused signal: %v", err)
	}
	if st := startTicksOf(t, pid); st != key.StartTicks {
		t.Fatal("child replaced")
	}

	if err := SignalProcess("/proc", key, int(syscall.SIGTERM)); err != nil {
		t.Fatalf("right key: %v", err)
	}
	waitSignalled(t, cmd, syscall.SIGTERM)

	err = SignalProcess("/proc", key, int(syscall.SIGTERM))
	if err == nil || err.Error() != "process "+strconv.Itoa(pid)+" has exited" {
		t.Errorf("after exit: err = %v", err)
	}
}

func TestSignalProcess(t *testing.T) {
	testSignalProcess(t)
}

// TestSignalProcessWithoutPidfd takes the kill(2) path of kernels older
// than 5.1.
func TestSignalProcessWithoutPidfd(t *testing.T) {
	orig := pidfdSendSignal
	pidfdSendSignal = func(int, unix.Signal, *unix.Siginfo, int) error { return unix.ENOSYS }
	defer func() { pidfdSendSignal = orig }()
	testSignalProcess(t)
}

// nsHelperEnv makes the test binary, started again inside a new PID
// namespace, run the body of TestSignalProcessOnlyInOwnNamespace.
const nsHelperEnv = "VITALS_SIGNAL_NS_HELPER"

// Inside a PID namespace that still sees the host's /proc (unshare --pid
// without --mount-proc), host pid 1 and the namespace's pid 1 (the helper
// itself) share a number. A key read from that /proc names the host's
// init; signalling it must be refused, not delivered to the namespace's
// pid 1, which is what pidfd_open(1) or kill(1) would reach.
func TestSignalProcessOnlyInOwnNamespace(t *testing.T) {
	if os.Getenv(nsHelperEnv) != "" {
		if os.Getpid() != 1 {
			t.Fatalf("helper is pid %d, want 1 in its own namespace", os.Getpid())
		}
		key := model.ProcKey{PID: 1, StartTicks: startTicksOf(t, 1)} // the host's init
		err := SignalProcess("/proc", key, 0)
		if err == nil {
			t.Fatal("signal to the host's pid 1 from another PID namespace was sent (to ourselves)")
		}
		if !strings.Contains(err.Error(), "namespace") {
			t.Fatalf("refused with %q, want it to name the namespace", err)
		}
		return
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare is not installed")
	}
	if os.Getpid() == 1 {
		t.Skip("already pid 1")
	}
	cmd := exec.Command("unshare", "--pid", "--fork", os.Args[0], "-test.run=^TestSignalProcessOnlyInOwnNamespace$", "-test.v")
	cmd.Env = append(os.Environ(), nsHelperEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "unshare failed") {
		t.Skipf("cannot create a PID namespace here: %s", out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("helper in a new PID namespace: %v\n%s", err, out)
	}
}

func TestSignalProcessZombie(t *testing.T) {
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	key := model.ProcKey{PID: int32(pid), StartTicks: startTicksOf(t, pid)}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Not reaped yet: wait for the zombie state.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if strings.HasPrefix(s[strings.LastIndex(s, ")")+1:], " Z") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("child did not become a zombie")
		}
		time.Sleep(10 * time.Millisecond)
	}
	err := SignalProcess("/proc", key, int(syscall.SIGTERM))
	if err == nil || !strings.HasPrefix(err.Error(), "process "+strconv.Itoa(pid)+" has exited") {
		t.Errorf("zombie: err = %v", err)
	}
}

func TestSignalErrorMessages(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{unix.EPERM, "not permitted to send SIGKILL to process 7"},
		{unix.ESRCH, "process 7 has exited"},
		{unix.EINVAL, "send SIGKILL to process 7: invalid argument"},
	} {
		if got := signalError(7, int(syscall.SIGKILL), c.err); got == nil || got.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.err, got, c.want)
		}
	}
	if signalName(200) != "signal 200" {
		t.Errorf("signalName(200) = %q", signalName(200))
	}
}
