package probes

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vitals-dev/vitals/model"
)

// selfKey is this test process's key.
func selfKey(t *testing.T) model.ProcKey {
	t.Helper()
	return model.ProcKey{PID: int32(os.Getpid()), StartTicks: startTicksOf(t, os.Getpid())}
}

// countCachestat counts cachestat(2) calls: one per file measured.
func countCachestat(t *testing.T) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	old := cachestat
	cachestat = func(fd uint, r *unix.CachestatRange, cs *unix.Cachestat_t, flags uint) error {
		n.Add(1)
		return old(fd, r, cs, flags)
	}
	t.Cleanup(func() { cachestat = old })
	return &n
}

// A process with many open files: after the first interval, pcstat
// measures the files shown and a bounded number of others, not every file
// (19,000 descriptors took vitals from 1.8 % to 22.5 % CPU), and a file
// that becomes cached still rises into the list within a few intervals.
func TestPcstatTrackerMeasuresWhatIsShown(t *testing.T) {
	const files, shown = 600, 50
	dir := t.TempDir()
	var opened []*os.File
	t.Cleanup(func() {
		for _, f := range opened {
			f.Close()
		}
	})
	for i := 0; i < files; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%03d", i)))
		if err != nil {
			t.Fatal(err)
		}
		// One cached page each (just written), f000 two: f000 is the most
		// cached, and ties rank by path.
		pages := 1
		if i == 0 {
			pages = 2
		}
		if _, err := f.Write(make([]byte, 4096*pages)); err != nil {
			t.Fatal(err)
		}
		opened = append(opened, f)
	}
	calls := countCachestat(t)
	key := selfKey(t)
	var tr pcstatTracker
	pf := tr.Read("/proc", key, shown)
	if len(pf.Files) != shown || !strings.HasSuffix(pf.Files[0].Path, "/f000") {
		t.Fatalf("first read: %d files, first %v", len(pf.Files), pf.Files[:min(1, len(pf.Files))])
	}
	if n := calls.Load(); n < files {
		t.Fatalf("first read measured %d files, want every one of %d", n, files)
	}
	// The least cached file becomes the most cached.
	last := opened[files-1]
	if _, err := last.Write(make([]byte, 4096*4)); err != nil {
		t.Fatal(err)
	}
	risen := false
	for interval := 1; interval <= (files+pcstatRefreshPerRead-1)/pcstatRefreshPerRead+1; interval++ {
		calls.Store(0)
		pf = tr.Read("/proc", key, shown)
		if n := calls.Load(); n > shown+int64(pcstatRefreshPerRead)+8 {
			t.Fatalf("interval %d measured %d files, want at most the %d shown and %d others", interval, n, shown, pcstatRefreshPerRead)
		}
		if len(pf.Files) > 0 && strings.HasSuffix(pf.Files[0].Path, fmt.Sprintf("/f%03d", files-1)) {
			risen = true
			break
		}
	}
	if !risen {
		t.Fatalf("the newly cached file never rose to the top; top is %+v", pf.Files[0])
	}
	// A closed file leaves the list.
	opened[0].Close()
	pf = tr.Read("/proc", key, shown)
	for _, f := range pf.Files {
		if strings.HasSuffix(f.Path, "/f000") {
			t.Fatal("a closed file is still listed")
		}
	}
}

// A file whose path is longer than PATH_MAX cannot be named by readlink;
// it is listed by device and inode, with the reason, instead of vanishing.
func TestPcstatPathLongerThanPathMax(t *testing.T) {
	top := t.TempDir()
	fd, err := unix.Open(top, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	component := strings.Repeat("d", 200)
	for depth := 0; depth*201 < unix.PathMax+100; depth++ {
		if err := unix.Mkdirat(fd, component, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, component, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	ffd, err := unix.Openat(fd, "deep", unix.O_RDWR|unix.O_CREAT, 0o644)
	unix.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ffd)
	if _, err := unix.Write(ffd, make([]byte, 3*4096)); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(ffd, &st); err != nil {
		t.Fatal(err)
	}
	pf := ReadProcessFiles("/proc", selfKey(t), 0)
	want := fmt.Sprintf("inode %d)", st.Ino)
	found := false
	for _, f := range pf.Files {
		if strings.HasSuffix(f.Path, want) && strings.Contains(f.Path, "PATH_MAX") {
			found = true
			if f.CachedPages != 3 {
				t.Errorf("deep file: %d cached pages, want 3", f.CachedPages)
			}
		}
	}
	if !found {
		t.Fatalf("the file deeper than PATH_MAX is not listed: %+v", pf.Files)
	}
	if !strings.Contains(pf.Reason, "PATH_MAX") {
		t.Fatalf("reason %q does not say that a path was too long", pf.Reason)
	}
}
