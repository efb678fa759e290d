package probes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// pidfdOpen is a variable so tests can take the kill(2) fallback path.
var pidfdOpen = unix.PidfdOpen

// SignalProcess sends sig to the process key names, and only to it: pids are
// reused, so key.PID must still have key.StartTicks as its start time.
//
// It opens a pidfd first and checks the start time after: the process we
// mean existed before the pidfd was opened (the key came from an earlier
// scan), so if the pid still has its start time now, it has held that pid
// all along and the pidfd refers to it. pidfd_send_signal then reaches that
// process or, if it exited since, nothing. On kernels without pidfd_open
// (before 5.3) it checks and then uses kill(2), which leaves a window of
// microseconds in which the pid could be reused.
func SignalProcess(procRoot string, key model.ProcKey, sig int) error {
	fd, err := pidfdOpen(int(key.PID), 0)
	switch {
	case err == nil:
		defer unix.Close(fd)
		if err := checkProcessKey(procRoot, key); err != nil {
			return err
		}
		return signalError(key.PID, sig, unix.PidfdSendSignal(fd, unix.Signal(sig), nil, 0))
	case errors.Is(err, unix.ENOSYS):
		if err := checkProcessKey(procRoot, key); err != nil {
			return err
		}
		return signalError(key.PID, sig, unix.Kill(int(key.PID), unix.Signal(sig)))
	default:
		return signalError(key.PID, sig, err)
	}
}

// checkProcessKey reports whether key.PID is still the process key names.
func checkProcessKey(procRoot string, key model.ProcKey) error {
	path := filepath.Join(procRoot, strconv.Itoa(int(key.PID)), "stat")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) || (err == nil && len(data) == 0) {
		return fmt.Errorf("process %d has exited", key.PID)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var st procStat
	if !parseProcStat(data, &st) {
		return fmt.Errorf("read %s: malformed", path)
	}
	if st.StartTicks != key.StartTicks {
		return fmt.Errorf("pid %d now belongs to another process", key.PID)
	}
	if st.State == 'Z' {
		return fmt.Errorf("process %d has exited (a zombie its parent has not reaped yet)", key.PID)
	}
	return nil
}

func signalError(pid int32, sig int, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ESRCH):
		return fmt.Errorf("process %d has exited", pid)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("not permitted to send %s to process %d", signalName(sig), pid)
	default:
		return fmt.Errorf("send %s to process %d: %w", signalName(sig), pid, err)
	}
}

func signalName(sig int) string {
	if name := unix.SignalName(unix.Signal(sig)); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(sig)
}
