package probes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// df per mount: the mounts of vitals' own mount namespace
// (<proc>/self/mountinfo, whose paths statfs resolves the same way), one
// per device, sized with statfs(2) as coreutils df does.
//
// statfs on a network filesystem whose server has gone blocks in the
// kernel, possibly for ever, and would stall the probe (and, through it,
// every frame). So network and FUSE filesystems are measured in a
// goroutine bounded by a timeout; one that did not answer is not asked
// again until that call returns, so a dead server costs one stuck
// goroutine per mount, not one per second. Local filesystems are measured
// directly.

type filesystems struct {
	cfg  DiskProbeConfig
	path string // mountinfo read last
	buf  []byte
	// raw is the mountinfo last parsed and mounts what it gave: the file
	// rarely changes, so an identical read is not parsed again.
	raw    []byte
	mounts []mountEntry

	mu      sync.Mutex
	pending map[string]time.Time // mount point → since when its statfs hangs
}

type mountEntry struct {
	majorMinor   string
	major, minor uint32
	root         string
	mountPoint   string
	fstype       string
	source       string
	readOnly     bool
}

func newFilesystems(cfg DiskProbeConfig) *filesystems {
	return &filesystems{cfg: cfg, buf: make([]byte, 8<<10), pending: map[string]time.Time{}}
}

// pseudoFS are filesystems without storage of their own; df leaves them
// out (coreutils' "dummy" filesystems), as does the view by default.
var pseudoFS = map[string]bool{
	"autofs": true, "binfmt_misc": true, "bpf": true, "cgroup": true, "cgroup2": true,
	"configfs": true, "debugfs": true, "devpts": true, "efivarfs": true,
	"fusectl": true, "hugetlbfs": true, "mqueue": true, "nsfs": true, "proc": true,
	"pstore": true, "rootfs": true, "rpc_pipefs": true, "securityfs": true, "selinuxfs": true,
	"sysfs": true, "tracefs": true, "ramfs": true, "overlay_internal": true, "none": true,
}

// networkFS are filesystems whose statfs asks a server.
var networkFS = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "ceph": true,
	"glusterfs": true, "9p": true, "afs": true, "ncpfs": true, "lustre": true, "davfs": true,
	"sshfs": true, "fuse.sshfs": true, "fuse.glusterfs": true, "fuse.s3fs": true, "fuse.rclone": true,
}

func isNetworkFS(fstype string) bool {
	return networkFS[fstype] || strings.HasPrefix(fstype, "nfs")
}

// read returns the filesystems, tied to devs by device number, or a reason
// why there are none.
func (f *filesystems) read(devs []model.DiskDevice) ([]model.Filesystem, string) {
	if err := f.readMountinfo(); err != nil {
		return nil, err.Error()
	}
	byNumber := make(map[[2]uint32]string, len(devs))
	names := make(map[string]bool, len(devs))
	for i := range devs {
		byNumber[[2]uint32{devs[i].Major, devs[i].Minor}] = devs[i].Name
		names[devs[i].Name] = true
	}
	out := make([]model.Filesystem, 0, len(f.mounts))
	index := map[string]int{} // device number → index in out (df keeps one mount per device)
	// A mount point mounted over again shows only the newest mount (the
	// later line): the older one is hidden beneath it, and df skips it.
	top := make(map[string]int, len(f.mounts))
	for i := range f.mounts {
		top[f.mounts[i].mountPoint] = i
	}
	for i := range f.mounts {
		m := &f.mounts[i]
		if top[m.mountPoint] != i {
			continue
		}
		if j, dup := index[m.majorMinor]; dup {
			// df's choice: the shortest mount point of a device (a bind
			// mount or a container's view is the same space).
			if len(m.mountPoint) < len(out[j].Mount) {
				out[j] = f.measure(m, byNumber, names)
			}
			continue
		}
		index[m.majorMinor] = len(out)
		out = append(out, f.measure(m, byNumber, names))
	}
	return out, ""
}

func (f *filesystems) measure(m *mountEntry, byNumber map[[2]uint32]string, names map[string]bool) model.Filesystem {
	fs := model.Filesystem{
		Mount: m.mountPoint, Device: m.source, MajorMinor: m.majorMinor, FSType: m.fstype,
		Pseudo: pseudoFS[m.fstype], Network: isNetworkFS(m.fstype), ReadOnly: m.readOnly,
	}
	fs.Disk = byNumber[[2]uint32{m.major, m.minor}]
	if fs.Disk == "" && strings.HasPrefix(m.source, "/dev/") {
		// btrfs and some others report an anonymous st_dev: tie by the
		// source device's name (/dev/mapper/x → dm-N on a live system).
		src := m.source
		if !f.cfg.CopiedTree {
			if r, err := filepath.EvalSymlinks(src); err == nil {
				src = r
			}
		}
		if n := strings.TrimPrefix(src, "/dev/"); names[n] {
			fs.Disk = n
		}
	}
	if fs.Pseudo {
		return fs // not measured: nothing to measure
	}
	if f.cfg.CopiedTree {
		fs.Reason = "not measured: the roots are a copied tree, and statfs would measure this machine's mounts"
		return fs
	}
	var st syscall.Statfs_t
	var err error
	if fs.Network || strings.HasPrefix(m.fstype, "fuse") {
		st, err = f.boundedStatfs(m.mountPoint)
	} else {
		err = f.cfg.Statfs(m.mountPoint, &st)
	}
	if err != nil {
		fs.Reason = "statfs " + m.mountPoint + ": " + err.Error()
		return fs
	}
	if st.Blocks == 0 {
		fs.Pseudo = true // df hides filesystems of 0 blocks too
	}
	bsize := uint64(st.Frsize)
	if bsize == 0 {
		bsize = uint64(st.Bsize)
	}
	used := st.Blocks - min(st.Bfree, st.Blocks)
	fs.SizeBytes = model.Known(float64(st.Blocks * bsize))
	fs.UsedBytes = model.Known(float64(used * bsize))
	fs.AvailBytes = model.Known(float64(st.Bavail * bsize))
	fs.UsePct = model.DFPercent(used, used+st.Bavail)
	if st.Files > 0 {
		iused := st.Files - min(st.Ffree, st.Files)
		fs.InodesTotal = model.Known(float64(st.Files))
		fs.InodesUsed = model.Known(float64(iused))
		fs.InodesUsedPct = model.DFPercent(iused, st.Files)
	}
	return fs
}

// boundedStatfs runs statfs in a goroutine and gives up after the timeout.
func (f *filesystems) boundedStatfs(path string) (syscall.Statfs_t, error) {
	f.mu.Lock()
	if since, hung := f.pending[path]; hung {
		f.mu.Unlock()
		return syscall.Statfs_t{}, fmt.Errorf("no answer since %s (server unreachable?); asked again once it answers", since.Format("15:04:05"))
	}
	f.pending[path] = time.Now()
	f.mu.Unlock()
	type result struct {
		st  syscall.Statfs_t
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.err = f.cfg.Statfs(path, &r.st)
		f.mu.Lock()
		delete(f.pending, path)
		f.mu.Unlock()
		done <- r
	}()
	timer := time.NewTimer(f.cfg.StatfsTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.st, r.err
	case <-timer.C:
		return syscall.Statfs_t{}, fmt.Errorf("no answer within %v (server unreachable?); not measured", f.cfg.StatfsTimeout)
	}
}

// readMountinfo reads <proc>/self/mountinfo (or init's, for a tree without
// self) and parses it when it changed.
func (f *filesystems) readMountinfo() error {
	var data []byte
	var err error
	for _, p := range []string{"self/mountinfo", "1/mountinfo"} {
		f.path = filepath.Join(f.cfg.ProcRoot, p)
		if data, err = readInto(f.path, &f.buf); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	if f.raw != nil && bytes.Equal(data, f.raw) {
		return nil
	}
	mounts, err := parseMountinfo(data)
	if err != nil {
		return fmt.Errorf("parse %s: %w", f.path, err)
	}
	f.mounts = mounts
	f.raw = append(f.raw[:0], data...)
	return nil
}

// readInto reads a whole file into *buf (grown as needed).
func readInto(path string, buf *[]byte) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n := 0
	for {
		if n == len(*buf) {
			nb := make([]byte, 2*max(n, 512))
			copy(nb, (*buf)[:n])
			*buf = nb
		}
		m, err := syscall.Read(fd, (*buf)[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return (*buf)[:n], nil
		}
		n += m
	}
}

// parseMountinfo parses proc_pid_mountinfo(5):
//
//	36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// Paths are unescaped (the kernel writes space, tab, newline and backslash
// as \040 \011 \012 \134). procfs's parser does not unescape them.
func parseMountinfo(data []byte) ([]mountEntry, error) {
	var out []mountEntry
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			return nil, fmt.Errorf("line %d: no \" - \" separator", n+1)
		}
		f := strings.Fields(pre)
		g := strings.Fields(post)
		if len(f) < 6 || len(g) < 2 {
			return nil, fmt.Errorf("line %d: too few fields", n+1)
		}
		maj, min, ok := strings.Cut(f[2], ":")
		ma, err1 := strconv.ParseUint(maj, 10, 32)
		mi, err2 := strconv.ParseUint(min, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("line %d: device %q is not major:minor", n+1, f[2])
		}
		e := mountEntry{
			majorMinor: f[2], major: uint32(ma), minor: uint32(mi),
			root: unescapeMount(f[3]), mountPoint: unescapeMount(f[4]),
			fstype: g[0], source: unescapeMount(g[1]),
		}
		for opt := range strings.SplitSeq(f[5], ",") {
			if opt == "ro" {
				e.readOnly = true
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// unescapeMount turns the kernel's \ooo octal escapes back into bytes.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
