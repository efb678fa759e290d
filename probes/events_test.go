package probes

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/vitals-dev/vitals/model"
	vebpf "github.com/vitals-dev/vitals/probes/ebpf"
	"github.com/vitals-dev/vitals/probes/ebpf/ebpftest"
)

// Many producers flood a small queue while the "frame" drains it: every
// event is either delivered, in order per producer, or counted as dropped.
func TestEventQueueFloodCountsEveryDrop(t *testing.T) {
	const producers, each, capacity = 8, 20000, 1024
	q := NewEventQueue("flood", capacity)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				q.Push(model.Event{PID: int32(p), Data: i})
			}
		}()
	}
	stop := make(chan struct{})
	var got []model.Event
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case <-stop:
				got = q.Drain(got)
				return
			default:
				got = q.Drain(got)
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-drained
	loss := q.Loss()
	if uint64(len(got))+loss.QueueDropped != producers*each {
		t.Fatalf("delivered %d + dropped %d != pushed %d", len(got), loss.QueueDropped, producers*each)
	}
	if loss.QueueDropped == 0 {
		t.Fatal("a queue of 1,024 under 160,000 events dropped nothing: the flood did not flood")
	}
	last := map[int32]int{}
	for _, ev := range got {
		i := ev.Data.(int)
		if prev, ok := last[ev.PID]; ok && i <= prev {
			t.Fatalf("producer %d: event %d after %d", ev.PID, i, prev)
		}
		last[ev.PID] = i
	}
	// Through the log: sequence numbers without gaps, bounded.
	log := model.NewEventLog(4096)
	for _, ev := range got {
		log.Append(ev)
	}
	log.SetLoss(loss)
	v := log.View()
	if v.Len() != min(len(got), 4096) || v.NextSeq != uint64(len(got))+1 {
		t.Fatalf("log holds %d, next seq %d; delivered %d", v.Len(), v.NextSeq, len(got))
	}
	for i := 1; i < v.Len(); i++ {
		if v.At(i).Seq != v.At(i-1).Seq+1 {
			t.Fatalf("gap in sequence numbers at %d", i)
		}
	}
	if since := v.Since(v.NextSeq-10, nil); len(since) != 10 || since[0].Seq != v.NextSeq-10 {
		t.Fatalf("Since(next-10) = %d events", len(since))
	}
	if len(v.Loss) != 1 || v.Loss[0] != loss {
		t.Fatalf("log loss %+v, want %+v", v.Loss, loss)
	}
}

// floodProgram is a socket filter that writes one 8-byte record (the value
// 42) into ring per run and counts failed writes in drops[0]. Built with
// the asm package so the test needs no clang; run with BPF_PROG_TEST_RUN.
func floodProgram(t *testing.T, ring, drops *ebpf.Map) *ebpf.Program {
	t.Helper()
	insns := asm.Instructions{
		asm.LoadMapPtr(asm.R1, ring.FD()),
		asm.Mov.Imm(asm.R2, 42),
		asm.StoreMem(asm.RFP, -8, asm.R2, asm.DWord),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.Mov.Imm(asm.R3, 8),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnRingbufOutput.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.StoreImm(asm.RFP, -16, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, drops.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -16),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SocketFilter, Instructions: insns, License: "GPL"})
	if err != nil {
		t.Fatalf("load flood program: %v", err)
	}
	return prog
}

// A real ring buffer flooded in the kernel faster than it is read: the
// records the kernel could not reserve are counted BPF-side, those the
// bounded queue could not hold user-side, and together with the delivered
// ones they add up to every record the program tried to write.
func TestRingReaderFloodCountsKernelAndQueueDrops(t *testing.T) {
	ebpftest.RequirePrivileged(t, vebpf.Privileged())
	ring, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.RingBuf, MaxEntries: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer ring.Close()
	drops, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer drops.Close()
	prog := floodProgram(t, ring, drops)
	defer prog.Close()
	const queueLen = 100
	r, err := NewRingReader("flood", ring, drops, queueLen, func(raw []byte, ev *model.Event) bool {
		if len(raw) != 8 || binary.NativeEndian.Uint64(raw) != 42 {
			return false
		}
		ev.Kind = "test"
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	const runs = 50000
	if _, err := prog.Run(&ebpf.RunOptions{Data: make([]byte, 64), Repeat: runs}); err != nil {
		t.Fatalf("test run: %v", err)
	}
	// Let the reader empty the ring buffer into the (full) queue.
	var delivered []model.Event
	deadline := time.Now().Add(5 * time.Second)
	for {
		loss := r.Loss()
		if loss.KernelDropped+loss.QueueDropped+uint64(queueLen) >= runs || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	delivered = r.Drain(delivered)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	loss := r.Loss()
	t.Logf("%d runs: delivered %d, kernel dropped %d, queue dropped %d, malformed %d",
		runs, len(delivered), loss.KernelDropped, loss.QueueDropped, loss.Malformed)
	if loss.Malformed != 0 {
		t.Errorf("%d malformed records", loss.Malformed)
	}
	if got := uint64(len(delivered)) + loss.KernelDropped + loss.QueueDropped; got != runs {
		t.Fatalf("delivered + dropped = %d, want %d runs: events lost without being counted", got, runs)
	}
	if loss.KernelDropped == 0 || loss.QueueDropped == 0 || len(delivered) != queueLen {
		t.Errorf("flood did not overflow both stages: %+v, delivered %d", loss, len(delivered))
	}

	// Through the collector: the frame carries the events and both counts.
	store := model.NewStore(model.Host{}, 1, 10)
	q := NewEventQueue("flood", 10)
	for i := 0; i < 15; i++ {
		q.Push(model.Event{Kind: "x"})
	}
	c := NewCollector(store, time.Second, nil, nil, []EventSource{q})
	c.Frame(time.Now())
	ev := store.Snapshot().Sample.Events
	if ev == nil || ev.Len() != 10 || len(ev.Loss) != 1 || ev.Loss[0].QueueDropped != 5 {
		t.Fatalf("frame events %+v", ev)
	}
	c.Close()
}

// A queue starts small and grows as a burst needs, keeping the order of
// what it holds across the wrap, and still drops only past its capacity.
func TestEventQueueGrowsInOrder(t *testing.T) {
	q := NewEventQueue("grow", 1000)
	if len(q.buf) > initialEventQueueLen {
		t.Fatalf("a new queue holds %d slots, want at most %d", len(q.buf), initialEventQueueLen)
	}
	// Wrap the ring before it grows: push 200, drain 150, push more.
	for i := range 200 {
		q.Push(model.Event{Data: i})
	}
	got := q.Drain(nil)[:0]
	for i := 200; i < 1300; i++ {
		q.Push(model.Event{Data: i})
	}
	got = q.Drain(got)
	if len(got) != 1000 || q.Loss().QueueDropped != 100 {
		t.Fatalf("delivered %d and dropped %d, want 1000 and 100", len(got), q.Loss().QueueDropped)
	}
	for i, ev := range got {
		if ev.Data.(int) != 200+i {
			t.Fatalf("event %d is %v, want %d: order lost while growing", i, ev.Data, 200+i)
		}
	}
}
