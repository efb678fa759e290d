package probes

import (
	"os/exec"
	"syscall"
	"testing"
)

// A kept fd belongs to the task it was opened for: once that process has
// exited and been reaped, the cached fd must not be read as if it were
// still the pid's (a reused pid is another process), and the reader must
// close it rather than leak it.
func TestReadKeptFollowsTaskNotPid(t *testing.T) {
	rd, err := newProcReader("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.close()
	rd.keptLimit = 100

	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int32(cmd.Process.Pid)
	data, errno := rd.readKept(pid, keptStat, 1)
	if errno != 0 || len(data) == 0 {
		t.Fatalf("first read: %v", errno)
	}
	var st procStat
	if !parseProcStat(data, &st) || st.PID != pid {
		t.Fatalf("parse: %+v", st)
	}
	if rd.keptFDs != 1 || rd.kept[pid] == nil || rd.kept[pid].fd[keptStat] < 0 {
		t.Fatalf("fd not kept: %d kept", rd.keptFDs)
	}
	// Second read goes through pread on the same fd and sees the same task.
	fd := rd.kept[pid].fd[keptStat]
	data, errno = rd.readKept(pid, keptStat, 2)
	if errno != 0 || !parseProcStat(data, &st) || st.PID != pid || rd.kept[pid].fd[keptStat] != fd {
		t.Fatalf("pread path: errno %v fd %d→%d", errno, fd, rd.kept[pid].fd[keptStat])
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	_, errno = rd.readKept(pid, keptStat, 3)
	if errno != syscall.ENOENT && errno != syscall.ESRCH {
		t.Fatalf("read after exit: errno %v, want ENOENT or ESRCH", errno)
	}
	if rd.kept[pid] != nil && rd.kept[pid].fd[keptStat] >= 0 {
		t.Fatal("the dead task's fd is still kept")
	}
	rd.forgetUnused(4)
	if rd.keptFDs != 0 || len(rd.kept) != 0 {
		t.Fatalf("%d fds, %d entries left after forgetting", rd.keptFDs, len(rd.kept))
	}
}

// The limit is respected: past it, files are read by open+read+close.
func TestReadKeptLimit(t *testing.T) {
	rd, err := newProcReader("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.close()
	rd.keptLimit = 1
	if _, errno := rd.readKept(1, keptStat, 1); errno != 0 {
		t.Fatal(errno)
	}
	if _, errno := rd.readKept(1, keptSchedstat, 1); errno != 0 {
		t.Fatal(errno)
	}
	if rd.keptFDs != 1 {
		t.Fatalf("%d fds kept, limit 1", rd.keptFDs)
	}
}

// With more processes than fds, every process keeps its schedstat fd (the
// idle fast path needs it) and stat fds get only what is left.
func TestReadKeptPrefersSchedstat(t *testing.T) {
	rd, err := newProcReader("/proc")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.close()
	rd.keptLimit = 4
	rd.processes = 3
	var pids []int32
	for i := 0; i < 3; i++ {
		c := exec.Command("sleep", "100")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		pids = append(pids, int32(c.Process.Pid))
	}
	for _, pid := range pids {
		if _, errno := rd.readKept(pid, keptStat, 1); errno != 0 {
			t.Fatal(errno)
		}
		if _, errno := rd.readKept(pid, keptSchedstat, 1); errno != 0 {
			t.Fatal(errno)
		}
	}
	stats, scheds := 0, 0
	for _, pid := range pids {
		if k := rd.kept[pid]; k != nil {
			if k.fd[keptStat] >= 0 {
				stats++
			}
			if k.fd[keptSchedstat] >= 0 {
				scheds++
			}
		}
	}
	if scheds != 3 || stats != 1 || rd.keptFDs != 4 || rd.schedFDs != 3 {
		t.Fatalf("kept %d schedstat and %d stat fds (%d in all, %d counted schedstat), want 3, 1, 4, 3", scheds, stats, rd.keptFDs, rd.schedFDs)
	}

	// With the budget to spare, every file stays open.
	rd.keptLimit = 100
	for _, pid := range pids {
		for file := range keptCount {
			if _, errno := rd.readKept(pid, file, 1); errno != 0 {
				t.Fatal(errno)
			}
		}
	}
	if want := 3 * keptCount; rd.keptFDs != want {
		t.Fatalf("%d fds kept with room for all, want %d", rd.keptFDs, want)
	}
	for _, pid := range pids {
		rd.forget(pid)
	}
	if rd.keptFDs != 0 || rd.schedFDs != 0 {
		t.Fatalf("%d fds (%d schedstat) after forgetting all", rd.keptFDs, rd.schedFDs)
	}
}
