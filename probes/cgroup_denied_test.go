package probes

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// withoutDACOverride runs f on an OS thread that has dropped the
// capabilities that let root read what file modes forbid, so that a mode
// 000 tree is unreadable for root too. Capabilities are per thread; the
// thread is discarded afterwards (the goroutine exits locked).
func withoutDACOverride(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			t.Errorf("capget: %v", err)
			return
		}
		for _, c := range []uint{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH} {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			t.Errorf("capset: %v", err)
			return
		}
		f()
	}()
	<-done
}

// A cgroup tree we may not read says so, instead of "not mounted".
func TestCgroupDetectPermissionDenied(t *testing.T) {
	root := filepath.Join(t.TempDir(), "cgroup")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("cpu memory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(root, 0o755) })
	var version int
	var reason string
	withoutDACOverride(t, func() { version, _, reason = detectMemoryCgroups(root) })
	if version != 0 {
		t.Skipf("the mode 000 tree is readable (version %d): this thread keeps a capability that overrides modes", version)
	}
	if !strings.Contains(reason, "permission denied") || strings.Contains(reason, "mounted") {
		t.Fatalf("reason %q, want a permission error, not \"not mounted\"", reason)
	}
}
