package probes

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

func netEv(kind string, pid int32, comm, remote string) model.Event {
	return model.Event{Source: "net", Kind: kind, PID: pid, Comm: comm,
		Data: &model.NetTCPEventData{LocalAddr: "10.0.0.1", LocalPort: 4000, RemoteAddr: remote, RemotePort: 80, State: "estab"}}
}

// Counts per kind, per remote address and per owner over a hand-made
// interval of 2 s: 30 retransmits of pid 7 toward .2, 5 of pid 8 toward
// .3, 2 unattributed toward .2, a reset sent with no socket and one
// received by pid 8.
func TestCountTCPEventsAndBurst(t *testing.T) {
	var evs []model.Event
	for range 30 {
		evs = append(evs, netEv(model.NetKindRetransmit, 7, "bulk", "10.0.0.2"))
	}
	for range 5 {
		evs = append(evs, netEv(model.NetKindRetransmit, 8, "other", "10.0.0.3"))
	}
	for range 2 {
		evs = append(evs, netEv(model.NetKindRetransmit, 0, "", "10.0.0.2"))
	}
	evs = append(evs, netEv(model.NetKindResetSent, 0, "", "10.0.0.4"), netEv(model.NetKindResetReceived, 8, "other", "10.0.0.3"))
	evs = append(evs, model.Event{Kind: "exec"}) // not ours: ignored
	ec, burst := countTCPEvents(evs, 2, map[string]*model.NetRemoteCount{}, map[int32]*netEventOwner{})
	if ec.RetransmitsPerS != 18.5 || ec.ResetsSentPerS != 0.5 || ec.ResetsReceivedPerS != 0.5 || ec.UnattributedPerS != 1.5 {
		t.Errorf("counts %+v", *ec)
	}
	want := []model.NetRemoteCount{{RemoteAddr: "10.0.0.2", RetransmitsPerS: 16}, {RemoteAddr: "10.0.0.3", RetransmitsPerS: 2.5, ResetsPerS: 0.5},
		{RemoteAddr: "10.0.0.4", ResetsPerS: 0.5}}
	if len(ec.ByRemote) != len(want) {
		t.Fatalf("by remote %+v", ec.ByRemote)
	}
	for i := range want {
		if ec.ByRemote[i] != want[i] {
			t.Errorf("by remote [%d] = %+v, want %+v", i, ec.ByRemote[i], want[i])
		}
	}
	d, ok := burst.Data.(*model.NetRetransmitBurst)
	if burst.Kind != model.EventRetransmitBurst || !ok {
		t.Fatalf("37 retransmits ≥ %d are a burst: %+v", model.RetransmitBurstMin, burst)
	}
	if burst.PID != 7 || burst.Comm != "bulk" || d.Retransmits != 37 || d.PerS != 18.5 || d.TopProcessRetransmits != 30 ||
		d.TopRemoteAddr != "10.0.0.2" || d.TopRemoteRetransmits != 32 {
		t.Errorf("burst %+v %+v", burst, *d)
	}
	if _, quiet := countTCPEvents(evs[30:], 2, map[string]*model.NetRemoteCount{}, map[int32]*netEventOwner{}); quiet.Kind != "" {
		t.Errorf("7 retransmits are no burst: %+v", quiet)
	}

	// One event when a run of bursts starts, again after a minute of it,
	// and again when a new run starts.
	b := &netBPF{out: NewEventQueue("net", 16)}
	t0 := time.Unix(1000, 0)
	for _, s := range []struct {
		burst bool
		at    time.Duration
	}{{true, 0}, {true, time.Second}, {true, 30 * time.Second}, {true, 61 * time.Second}, {false, 62 * time.Second}, {true, 63 * time.Second}} {
		ev := model.Event{}
		if s.burst {
			ev = burst
		}
		b.reportBurst(t0.Add(s.at), ev)
	}
	got := b.out.Drain(nil)
	if len(got) != 3 || !got[0].Time.Equal(t0) || !got[1].Time.Equal(t0.Add(61*time.Second)) || !got[2].Time.Equal(t0.Add(63*time.Second)) {
		t.Errorf("burst events at %v", got)
	}
}

// The event log's loss for "net" includes the ring reader's.
func TestEventQueueUpstreamLoss(t *testing.T) {
	up := NewEventQueue("net", 1)
	up.Push(model.Event{})
	up.Push(model.Event{}) // dropped
	up.countMalformed()
	out := NewEventQueue("net", 1)
	out.upstream = up.Loss
	out.Push(model.Event{})
	out.Push(model.Event{}) // dropped
	if l := out.Loss(); l.QueueDropped != 2 || l.Malformed != 1 {
		t.Errorf("loss %+v, want 2 queue drops and 1 malformed", l)
	}
}

// decodeNetEvent: a record as the BPF side writes it (struct net_event).
func TestDecodeNetEventRecord(t *testing.T) {
	raw := make([]byte, 80)
	le := binary.LittleEndian
	le.PutUint64(raw[0:], 5e9)
	le.PutUint64(raw[8:], 1234)
	le.PutUint32(raw[16:], 42)
	raw[20], raw[21] = 3, 2 // reset received, syn-sent
	le.PutUint16(raw[22:], 2)
	le.PutUint16(raw[24:], 41000)
	le.PutUint16(raw[26:], 9)
	copy(raw[28:], []byte{127, 0, 0, 1})
	copy(raw[44:], []byte{127, 0, 0, 1})
	copy(raw[60:], "curl")
	var ev model.Event
	if !decodeNetEvent(raw, &ev) {
		t.Fatal("valid record rejected")
	}
	d := ev.Data.(*model.NetTCPEventData)
	if ev.Kind != model.NetKindResetReceived || ev.PID != 42 || ev.StartTicks != 1234 || ev.Comm != "curl" ||
		*d != (model.NetTCPEventData{LocalAddr: "127.0.0.1", LocalPort: 41000, RemoteAddr: "127.0.0.1", RemotePort: 9, State: "syn-sent", Segments: 1}) {
		t.Errorf("decoded %+v %+v", ev, *d)
	}
	te, ok := tcpEvent(&ev)
	if !ok || te.PID == nil || *te.PID != 42 || te.RemotePort != 9 {
		t.Errorf("tcpEvent %+v", te)
	}
	raw[20] = 9
	if decodeNetEvent(raw, &ev) {
		t.Error("unknown kind accepted")
	}
}

// Whatever the bytes, decoding never panics, and what it accepts has a
// known kind and addresses of the family it says.
func FuzzDecodeNetEvent(f *testing.F) {
	seed := make([]byte, 80)
	seed[20], seed[22] = 1, 2
	f.Add(seed)
	six := make([]byte, 80)
	six[20], six[22] = 2, 10
	f.Add(six)
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev model.Event
		if !decodeNetEvent(b, &ev) {
			return
		}
		switch ev.Kind {
		case model.NetKindRetransmit, model.NetKindResetSent, model.NetKindResetReceived:
		default:
			t.Fatalf("accepted kind %q", ev.Kind)
		}
		d := ev.Data.(*model.NetTCPEventData)
		if (d.LocalAddr == "") != (d.RemoteAddr == "") {
			t.Fatalf("half an address pair: %+v", *d)
		}
		if ev.PID < 0 && b[16]|b[17]|b[18]|b[19] == 0 {
			t.Fatal("negative pid from zero bytes")
		}
	})
}
