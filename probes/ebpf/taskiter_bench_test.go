package ebpf

import (
	"testing"

	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// BenchmarkTaskIterRead is one run of the task iterator over this
// machine's tasks: the kernel's part of the iter scan tier.
func BenchmarkTaskIterRead(b *testing.B) {
	ebpftest.RequirePrivileged(b, Privileged())
	it, _, err := OpenTaskIter(NewSession(), LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer it.Close()
	var buf []uint64
	b.ReportAllocs()
	tasks := 0
	for b.Loop() {
		buf, err = it.Read(buf)
		if err != nil {
			b.Fatal(err)
		}
		tasks += len(Records(buf))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(tasks), "ns/task")
	b.ReportMetric(float64(tasks)/float64(b.N), "tasks")
}
