package probes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// pidfdSendSignal is a variable so tests can take the kill(2) fallback path.
var pidfdSendSignal = unix.PidfdSendSignal

// SignalProcess sends sig to the process key names, and only to it: pids are
// reused, so key.PID must still have key.StartTicks as its start time, and
// the pid is the /proc tree's, which need not be vitals' PID namespace.
//
// It opens procRoot/PID and checks the start time through that directory's
// descriptor, which the kernel binds to the process the tree showed: if it
// exits and the pid is reused, the descriptor does not follow. The signal
// goes through the same descriptor (pidfd_send_signal accepts a /proc/PID
// directory, Linux 5.1+), so it reaches exactly the process checked, or, if
// it exited since, nothing; and the kernel refuses a process outside
// vitals' PID namespace (a /proc of the host seen from a container, where
// the same number is another process of ours). On older kernels it checks
// and then uses kill(2), which leaves a window of microseconds in which the
// pid could be reused.
func SignalProcess(procRoot string, key model.ProcKey, sig int) error {
	dir := filepath.Join(procRoot, strconv.Itoa(int(key.PID)))
	dirFD, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("process %d has exited", key.PID)
		}
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dirFD)
	if err := checkProcessKey(dirFD, dir, key); err != nil {
		return err
	}
	err = pidfdSendSignal(dirFD, unix.Signal(sig), nil, 0)
	switch {
	case errors.Is(err, unix.ENOSYS):
		return signalError(key.PID, sig, unix.Kill(int(key.PID), unix.Signal(sig)))
	case errors.Is(err, unix.EINVAL) && sig >= 0 && sig < 65:
		return fmt.Errorf("process %d is not in vitals' PID namespace: not sending %s", key.PID, signalName(sig))
	default:
		return signalError(key.PID, sig, err)
	}
}

// checkProcessKey reports whether the process of dirFD (procRoot/PID) is
// still the one key names, alive.
func checkProcessKey(dirFD int, dir string, key model.ProcKey) error {
	path := dir + "/stat"
	fd, err := unix.Openat(dirFD, "stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("process %d has exited", key.PID)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	data := make([]byte, 1024)
	n, err := f.Read(data)
	if errors.Is(err, unix.ESRCH) || (err == nil && n == 0) {
		return fmt.Errorf("process %d has exited", key.PID)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var st procStat
	if !parseProcStat(data[:n], &st) {
		return fmt.Errorf("read %s: malformed", path)
	}
	if st.StartTicks != key.StartTicks {
		return fmt.Errorf("pid %d now belongs to another process", key.PID)
	}
	if st.State == 'Z' || st.State == 'X' {
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
	if sig == 0 {
		return "signal 0"
	}
	if name := unix.SignalName(unix.Signal(sig)); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(sig)
}
