package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// History is kept for interfaces that exist, at most
// MaxNetHistoryInterfaces of them; a vanished interface's series go.
func TestNetHistoryBoundedToInterfacesThatExist(t *testing.T) {
	h := NewHistory(10)
	t0 := time.Unix(1000, 0)
	frame := func(i int, names ...string) {
		s := &Sample{Time: t0.Add(time.Duration(i) * time.Second), Net: &Net{}}
		for _, n := range names {
			s.Net.Interfaces = append(s.Net.Interfaces, NetInterface{Name: n, RxBytesPerS: Known(float64(i)), TxBytesPerS: Known(1), RxPacketsPerS: Unknown, TxPacketsPerS: Known(2)})
		}
		RecordHistory(h, s)
	}
	frame(1, "lo", "eth0", "veth1")
	frame(2, "lo", "eth0", "veth1")
	if n := h.series[NetSeries(NetRxBytes, "veth1")].view().Len(); n != 2 {
		t.Fatalf("veth1 has %d points", n)
	}
	if _, ok := h.series[NetSeries(NetRxPackets, "eth0")]; ok {
		t.Error("an unknown rate added a point")
	}
	frame(3, "lo", "eth0")
	for name := range h.series {
		if strings.HasSuffix(name, "/veth1") {
			t.Errorf("%s kept after veth1 vanished", name)
		}
	}
	if n := h.series[NetSeries(NetRxBytes, "eth0")].view().Len(); n != 3 {
		t.Errorf("eth0 has %d points", n)
	}
	var many []string
	for i := 0; i < MaxNetHistoryInterfaces+5; i++ {
		many = append(many, "veth"+string(rune('a'+i)))
	}
	frame(4, many...)
	kept := 0
	for name := range h.series {
		if strings.HasPrefix(name, NetRxBytes+"/") {
			kept++
		}
	}
	if kept != MaxNetHistoryInterfaces {
		t.Errorf("%d interfaces with history, want %d", kept, MaxNetHistoryInterfaces)
	}
	// A stale net part adds nothing.
	s := &Sample{Time: t0.Add(9 * time.Second), Net: &Net{Interfaces: []NetInterface{{Name: "vetha", RxBytesPerS: Known(5)}}},
		Probes: []ProbeStatus{{Name: "net", Stale: true}}}
	RecordHistory(h, s)
	if n := h.series[NetSeries(NetRxBytes, "vetha")].view().Len(); n != 1 {
		t.Errorf("stale frame recorded: %d points", n)
	}
}

func TestNetJSONKeys(t *testing.T) {
	pid := int32(42)
	n := Net{Interfaces: []NetInterface{{Name: "eth0", RxBytesPerS: Known(1)}}, TCP: &TCPCounters{}, UDP: &UDPCounters{},
		Sockets:   &SocketTotals{TCPStates: map[string]int{"estab": 1}},
		Listening: []Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 80, SocketOwner: SocketOwner{PID: &pid, Comm: "nginx"}}}}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"interfaces":[{"name":"eth0","rx_bytes_per_s":1,"tx_bytes_per_s":null`, `"speed_mbps":null`, `"operstate":""`,
		`"rx_errors_per_s":null`, `"tx_errors_per_s":null`, `"rx_drops_per_s":null`, `"tx_drops_per_s":null`, `"rx_packets_per_s":null`, `"tx_packets_per_s":null`,
		`"active_opens_per_s":null`, `"passive_opens_per_s":null`, `"in_segs_per_s":null`, `"out_segs_per_s":null`, `"retrans_segs_per_s":null`,
		`"out_resets_per_s":null`, `"attempt_fails_per_s":null`, `"listen_overflows_per_s":null`, `"listen_drops_per_s":null`,
		`"udp":{"in_datagrams_per_s":null`, `"sockets":{"tcp_states":{"estab":1}`,
		`"listening":[{"proto":"tcp","address":"0.0.0.0","port":80,"uid":0,"inode":0,"pid":42,"comm":"nginx","queue":0}]`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b)
		}
	}
}

// Every key issue 9 lists for the snapshot exists with exactly that name,
// and unknowns are null.
func TestNetJSONKeysAsDocumented(t *testing.T) {
	pid := int32(7)
	n := Net{
		Interfaces:  []NetInterface{{Name: "eth0", RxBytesPerS: Known(1)}},
		TCP:         &TCPCounters{},
		UDP:         &UDPCounters{},
		Sockets:     &SocketTotals{TCPStates: map[string]int{"estab": 1}},
		Listening:   []Listener{{Proto: "tcp", Address: "0.0.0.0", Port: 80, SocketOwner: SocketOwner{PID: &pid, Comm: "nginx"}}},
		Tier:        &Feature{Name: "net", Tier: TierProcfs},
		Retransmits: []NetTCPEvent{{Kind: NetKindRetransmit, PID: &pid}},
	}
	var doc map[string]any
	b, _ := json.Marshal(n)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(obj map[string]any, where string, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks %q", where, k)
			}
		}
	}
	has(doc, "net", "interfaces", "tcp", "udp", "sockets", "listening", "retransmits", "tier")
	ifc := doc["interfaces"].([]any)[0].(map[string]any)
	has(ifc, "net.interfaces[]", "name", "rx_bytes_per_s", "tx_bytes_per_s", "rx_packets_per_s", "tx_packets_per_s", "rx_errors_per_s",
		"tx_errors_per_s", "rx_drops_per_s", "tx_drops_per_s", "speed_mbps", "operstate")
	if ifc["tx_bytes_per_s"] != nil || ifc["speed_mbps"] != nil {
		t.Errorf("unknown rates must be null: %v", ifc)
	}
	has(doc["tcp"].(map[string]any), "net.tcp", "active_opens_per_s", "passive_opens_per_s", "in_segs_per_s", "out_segs_per_s",
		"retrans_segs_per_s", "out_resets_per_s", "attempt_fails_per_s", "listen_overflows_per_s", "listen_drops_per_s")
	has(doc["listening"].([]any)[0].(map[string]any), "net.listening[]", "proto", "address", "port", "pid", "comm")
	has(doc["retransmits"].([]any)[0].(map[string]any), "net.retransmits[]", "time", "kind", "pid", "comm", "local_address",
		"local_port", "remote_address", "remote_port", "state", "segments")
	var p map[string]any
	b, _ = json.Marshal(Process{})
	json.Unmarshal(b, &p)
	has(p, "processes[]", "net_tx_bytes_per_s", "net_rx_bytes_per_s", "net_retransmits_per_s")
	if p["net_tx_bytes_per_s"] != nil {
		t.Errorf("net rates without eBPF must be null: %v", p["net_tx_bytes_per_s"])
	}
	// Without eBPF the parts it alone gives are null, not empty.
	b, _ = json.Marshal(Net{})
	json.Unmarshal(b, &doc)
	for _, k := range []string{"retransmits", "tcp_events", "per_process"} {
		if v, ok := doc[k]; !ok || v != nil {
			t.Errorf("%s without eBPF = %v, want null", k, v)
		}
	}
}
