package ebpf

import (
	"fmt"
	"sync"

	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/rlimit"
)

// Session is what every eBPF feature shares when it loads: the privilege
// check, the raised memlock limit, the tracefs mount and the kernel's BTF,
// decoded once (it is megabytes; each feature decoding its own copy cost
// time and memory). Make one with NewSession, load every feature through it
// (OpenCacheStat, later disk, net, events), then drop it: the loaded
// features do not keep it, so the decoded BTF can be freed.
type Session struct {
	// reason is why nothing can load (no privileges, memlock); empty when
	// loading may be tried.
	reason string
	// tracefsErr says why tracefs is missing, for the classic tracepoint
	// tier's failure.
	tracefsErr error

	btf *btf.Cache

	// pidns is the PID namespace the BPF objects translate pids into
	// (pidNamespaceConstant: 0 for the initial one).
	pidns uint32

	mu            sync.Mutex
	kernel        *btf.Spec
	kernelErr     error
	kernelDecodes int
}

// NewSession checks privileges, raises the memlock limit (kernels before
// 5.11 charge BPF memory to it) and makes sure tracefs is mounted. It never
// fails: what went wrong is the Reason every feature loaded through the
// session reports for every tier.
func NewSession() *Session { return newSession(Privileged) }

func newSession(privileged func() bool) *Session {
	s := &Session{btf: btf.NewCache()}
	if !privileged() {
		s.reason = NeedsPrivilege
		return s
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		s.reason = fmt.Sprintf("raise memlock limit: %v", err)
		return s
	}
	// Before any attach: cilium/ebpf looks for tracefs once per process.
	s.tracefsErr = ensureTracefs()
	ino, err := PIDNamespace("/proc")
	if err != nil {
		s.reason = err.Error() + ": pids could not be matched to /proc"
		return s
	}
	s.pidns = pidNamespaceConstant(ino)
	return s
}

// TranslatesPIDs reports whether the loaded objects translate pids into a
// child PID namespace (vitals inside a container or `unshare --pid`).
func (s *Session) TranslatesPIDs() bool { return s.pidns != 0 }

// Reason is why no feature can load through this session; empty when
// loading may be tried.
func (s *Session) Reason() string { return s.reason }

// kernelTypes is the kernel's BTF, decoded on the first call and shared by
// every later load (CO-RE relocations and attach-target lookups alike, as
// the same btf.Cache goes into CollectionOptions).
func (s *Session) kernelTypes() (*btf.Spec, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kernel == nil && s.kernelErr == nil {
		s.kernelDecodes++
		s.kernel, s.kernelErr = s.btf.Kernel()
	}
	return s.kernel, s.kernelErr
}
