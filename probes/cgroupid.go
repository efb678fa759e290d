package probes

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cgroupIDs maps the kernel's cgroup ids (kernfs node ids, which BPF
// programs read from a task's css) to paths in the memory cgroup hierarchy:
// a cgroup's id is the inode number of its directory. Paths are as
// Process.Cgroup writes them ("/user.slice"). Walks the hierarchy on a
// miss, at most every rescanEvery, so an unknown id (a cgroup already
// removed) costs little.
type cgroupIDs struct {
	root string // the memory hierarchy's mount ("" when none)

	mu       sync.Mutex
	paths    map[uint64]string
	lastScan time.Time
}

const cgroupRescanEvery = 200 * time.Millisecond

func newCgroupIDs(cgroupRoot string) *cgroupIDs {
	_, hierarchy, _ := detectMemoryCgroups(cgroupRoot)
	return &cgroupIDs{root: hierarchy, paths: map[uint64]string{}}
}

// Path returns the cgroup's path, or "" when not found.
func (c *cgroupIDs) Path(id uint64) string {
	if c == nil || c.root == "" || id == 0 {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.paths[id]; ok {
		return p
	}
	if time.Since(c.lastScan) < cgroupRescanEvery {
		return ""
	}
	c.scan()
	return c.paths[id]
}

func (c *cgroupIDs) scan() {
	c.lastScan = time.Now()
	clear(c.paths)
	_ = filepath.WalkDir(c.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		rel := strings.TrimPrefix(path, c.root)
		if rel == "" {
			rel = "/"
		}
		c.paths[st.Ino] = rel
		return nil
	})
}

// cgroupLimit reads a memory cgroup's limit in bytes (v2 memory.max, v1
// memory.limit_in_bytes); ok is false when there is none or it cannot be
// read.
func (c *cgroupIDs) limit(path string) (uint64, bool) {
	if c == nil || c.root == "" || path == "" {
		return 0, false
	}
	dir := filepath.Join(c.root, path)
	for _, name := range []string{"memory.max", "memory.limit_in_bytes"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || v >= 1<<62 { // "max", or v1's "no limit" (PAGE_COUNTER_MAX pages)
			return 0, false
		}
		return v, true
	}
	return 0, false
}
