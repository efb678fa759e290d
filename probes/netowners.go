package probes

import (
	"bytes"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/vitals-dev/vitals/model"
)

// walkOwners maps socket inodes to the processes holding them, as ss -p
// and nethogs do: every /proc/PID/fd link that reads "socket:[INODE]".
// Threads share their process's fd table, so only processes are walked.
// Other users' fd tables are unreadable without root (EACCES): those are
// counted, and their sockets show no owner.
func (p *NetProbe) walkOwners(now time.Time) {
	start := time.Now()
	clear(p.owners)
	info := &model.SocketOwners{At: now, IntervalS: p.cfg.OwnerInterval.Seconds()}
	rootFD, err := syscall.Open(p.cfg.ProcRoot, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		p.ownersInfo = info
		return
	}
	defer syscall.Close(rootFD)
	p.pids = p.listNumeric(rootFD, p.pids[:0], true)
	var path []byte
	for _, pid := range p.pids {
		path = strconv.AppendInt(path[:0], int64(pid), 10)
		path = append(path, "/fd"...)
		fdDir, err := syscall.Openat(rootFD, string(path), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != nil {
			if err == syscall.EACCES || err == syscall.EPERM {
				info.Unreadable++
			}
			continue // exited (ENOENT): normal
		}
		info.Processes++
		p.fds = p.listNumeric(fdDir, p.fds[:0], false)
		for _, fd := range p.fds {
			link, ok := p.readlinkat(fdDir, fd)
			if !ok {
				continue
			}
			ino, ok := socketInode(link)
			if !ok {
				continue
			}
			if o := p.owners[ino]; o != nil {
				// Shared (forked workers, passed fds): keep the lowest pid.
				if pid != o.pid {
					o.others++
					o.pid = min(o.pid, pid)
				}
				continue
			}
			p.owners[ino] = &sockOwner{pid: pid}
		}
		syscall.Close(fdDir)
	}
	// Names only for the processes that hold sockets.
	clear(p.comms)
	for _, o := range p.owners {
		if _, done := p.comms[o.pid]; done {
			continue
		}
		p.comms[o.pid] = p.readComm(o.pid)
	}
	info.Sockets = len(p.owners)
	took := time.Since(start)
	info.DurationMS = float64(took) / float64(time.Millisecond)
	info.IntervalS = max(p.cfg.OwnerInterval, ownerCostShare*took).Seconds()
	p.ownersInfo = info
}

// readComm is /proc/PID/comm without its newline; "" when it is gone.
func (p *NetProbe) readComm(pid int32) string {
	b, err := p.read(filepath.Join(p.cfg.ProcRoot, strconv.Itoa(int(pid)), "comm"))
	if err != nil {
		return ""
	}
	return string(bytes.TrimSuffix(b, []byte("\n")))
}

// readlinkat reads the link of fd in dirfd into the probe's buffer.
func (p *NetProbe) readlinkat(dirfd int, fd int32) ([]byte, bool) {
	var name [16]byte
	nb := strconv.AppendInt(name[:0], int64(fd), 10)
	nb = append(nb, 0)
	n, _, e := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(&nb[0])),
		uintptr(unsafe.Pointer(&p.linkBuf[0])), uintptr(len(p.linkBuf)), 0, 0)
	if e != 0 || int(n) <= 0 {
		return nil, false
	}
	// "socket:[" + 20 digits + "]" fits; longer links (paths) are not
	// sockets and may be cut.
	return p.linkBuf[:n], true
}

// listNumeric appends the positive decimal names in directory fd
// (directories only when dirs is set: pids, not /proc/self links).
func (p *NetProbe) listNumeric(fd int, dst []int32, dirs bool) []int32 {
	for {
		n, _, e := syscall.Syscall(syscall.SYS_GETDENTS64, uintptr(fd), uintptr(unsafe.Pointer(&p.dents[0])), uintptr(len(p.dents)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 || n == 0 {
			return dst
		}
		dst = appendDirentNumbers(dst, p.dents[:n], dirs)
	}
}
