package probes

// Parsers of the per-namespace /proc/net files. They work in place on the
// bytes read, allocate nothing per line, and never panic on malformed
// input (they are fuzzed): a line they cannot make sense of is skipped.

import (
	"bytes"
	"encoding/binary"
	"net/netip"
)

// netDevField indexes the 16 counters of a /proc/net/dev line, in the
// file's order.
const (
	devRxBytes = iota
	devRxPackets
	devRxErrs
	devRxDrop
	devRxFIFO
	devRxFrame
	devRxCompressed
	devRxMulticast
	devTxBytes
	devTxPackets
	devTxErrs
	devTxDrop
	devTxFIFO
	devTxColls
	devTxCarrier
	devTxCompressed
	devFields
)

type devCounters [devFields]uint64

// parseNetDev calls fn for every interface line of /proc/net/dev
// ("  eth0: 123 4 …"). name aliases b. Lines with fewer than 16 counters
// are skipped.
func parseNetDev(b []byte, fn func(name []byte, c *devCounters)) {
	var c devCounters
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue // the two header lines have '|' and no ':'
		}
		name := bytes.TrimSpace(line[:colon])
		if len(name) == 0 || bytes.IndexByte(name, '|') >= 0 {
			continue
		}
		rest := line[colon+1:]
		n := 0
		for n < devFields {
			var f []byte
			f, rest = nextField(rest)
			v, ok := parseDecimal(f)
			if !ok {
				break
			}
			c[n] = v
			n++
		}
		if n == devFields {
			fn(name, &c)
		}
	}
}

// parseSNMPTable reads the "Prefix: Name Name …" / "Prefix: v v …" line
// pairs of /proc/net/snmp and /proc/net/netstat and calls fn for every
// (prefix, name, value). Negative values (Tcp MaxConn -1) are passed as
// ok=false.
func parseSNMPTable(b []byte, fn func(prefix, name []byte, v uint64, ok bool)) {
	var head []byte
	haveHead := false
	for len(b) > 0 {
		if !haveHead {
			head, b = cutLine(b)
			haveHead = true
			continue
		}
		var vals []byte
		vals, b = cutLine(b)
		hp, hrest, ok1 := bytes.Cut(head, []byte(":"))
		vp, vrest, ok2 := bytes.Cut(vals, []byte(":"))
		if !ok1 || !ok2 || !bytes.Equal(hp, vp) {
			// Out of step (a truncated or odd file): this line may be the
			// next pair's names.
			head = vals
			continue
		}
		haveHead = false
		for {
			var name, val []byte
			name, hrest = nextField(hrest)
			val, vrest = nextField(vrest)
			if len(name) == 0 || len(val) == 0 {
				break
			}
			v, ok := parseDecimal(val)
			fn(hp, name, v, ok)
		}
	}
}

// parseSNMP6 reads /proc/net/snmp6's "Name value" lines.
func parseSNMP6(b []byte, fn func(name []byte, v uint64)) {
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		name, rest := nextField(line)
		val, _ := nextField(rest)
		if len(name) == 0 || len(val) == 0 {
			continue
		}
		if v, ok := parseDecimal(val); ok {
			fn(name, v)
		}
	}
}

// parseSockstat reads /proc/net/sockstat{,6}: "TCP: inuse 1 orphan 0 …"
// and "sockets: used 14".
func parseSockstat(b []byte, fn func(proto, key []byte, v uint64)) {
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		proto, rest, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		proto = bytes.TrimSpace(proto)
		for {
			var k, v []byte
			k, rest = nextField(rest)
			v, rest = nextField(rest)
			if len(k) == 0 || len(v) == 0 {
				break
			}
			if n, ok := parseDecimal(v); ok {
				fn(proto, k, n)
			}
		}
	}
}

// TCP states as the kernel numbers them (include/net/tcp_states.h).
const (
	tcpEstablished = 1
	tcpSynSent     = 2
	tcpSynRecv     = 3
	tcpFinWait1    = 4
	tcpFinWait2    = 5
	tcpTimeWait    = 6
	tcpClose       = 7
	tcpCloseWait   = 8
	tcpLastAck     = 9
	tcpListen      = 10
	tcpClosing     = 11
	tcpNewSynRecv  = 12
	tcpStateCount  = 13
)

// tcpStateNames are ss's names of the states, lower case.
var tcpStateNames = [tcpStateCount]string{
	"", "estab", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2",
	"time-wait", "close", "close-wait", "last-ack", "listen", "closing", "syn-recv",
}

// sockEntry is one line of /proc/net/{tcp,tcp6,udp,udp6}.
type sockEntry struct {
	local, remote    netip.AddrPort
	state            uint8
	txQueue, rxQueue uint64
	uid              uint32
	inode            uint64
}

// parseSockTable calls fn for every socket line of /proc/net/tcp, tcp6,
// udp or udp6:
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 23 …
//
// Addresses are the kernel's in-memory bytes printed as 32-bit words in
// host order; ports are in host order.
func parseSockTable(b []byte, fn func(e *sockEntry)) {
	var e sockEntry
	first := true
	for len(b) > 0 {
		var line []byte
		line, b = cutLine(b)
		if first {
			first = false
			if bytes.Contains(line, []byte("local_address")) {
				continue
			}
		}
		if !parseSockLine(line, &e) {
			continue
		}
		fn(&e)
	}
}

func parseSockLine(line []byte, e *sockEntry) bool {
	sl, rest := nextField(line)
	if len(sl) == 0 || sl[len(sl)-1] != ':' {
		return false
	}
	var f []byte
	var ok bool
	f, rest = nextField(rest)
	if e.local, ok = parseHexAddrPort(f); !ok {
		return false
	}
	f, rest = nextField(rest)
	if e.remote, ok = parseHexAddrPort(f); !ok {
		return false
	}
	f, rest = nextField(rest)
	st, ok := parseHex(f)
	if !ok || st >= tcpStateCount {
		return false
	}
	e.state = uint8(st)
	f, rest = nextField(rest) // tx_queue:rx_queue
	tx, rx, found := bytes.Cut(f, []byte(":"))
	if !found {
		return false
	}
	if e.txQueue, ok = parseHex(tx); !ok {
		return false
	}
	if e.rxQueue, ok = parseHex(rx); !ok {
		return false
	}
	_, rest = nextField(rest) // tr:tm->when
	_, rest = nextField(rest) // retrnsmt
	f, rest = nextField(rest)
	uid, ok := parseDecimal(f)
	if !ok || uid > 1<<32-1 {
		return false
	}
	e.uid = uint32(uid)
	_, rest = nextField(rest) // timeout
	f, _ = nextField(rest)
	if e.inode, ok = parseDecimal(f); !ok {
		return false
	}
	return true
}

// parseHexAddrPort parses "0100007F:0016" (IPv4) or 32 hex digits and a
// port (IPv6). Each group of 8 digits is a 32-bit word of the address as
// the kernel holds it, printed in host byte order, so its bytes are put
// back in host order to recover the network-order address.
func parseHexAddrPort(f []byte) (netip.AddrPort, bool) {
	a, p, ok := bytes.Cut(f, []byte(":"))
	if !ok || len(p) != 4 {
		return netip.AddrPort{}, false
	}
	port, ok := parseHex(p)
	if !ok {
		return netip.AddrPort{}, false
	}
	var raw [16]byte
	switch len(a) {
	case 8:
		w, ok := parseHex(a)
		if !ok {
			return netip.AddrPort{}, false
		}
		binary.NativeEndian.PutUint32(raw[:4], uint32(w))
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(raw[:4])), uint16(port)), true
	case 32:
		for i := 0; i < 4; i++ {
			w, ok := parseHex(a[i*8 : i*8+8])
			if !ok {
				return netip.AddrPort{}, false
			}
			binary.NativeEndian.PutUint32(raw[i*4:], uint32(w))
		}
		return netip.AddrPortFrom(netip.AddrFrom16(raw), uint16(port)), true
	}
	return netip.AddrPort{}, false
}

// parseHex parses up to 16 hex digits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// socketInode parses a /proc/PID/fd link text "socket:[12345]".
func socketInode(link []byte) (uint64, bool) {
	const prefix = "socket:["
	if len(link) < len(prefix)+2 || string(link[:len(prefix)]) != prefix || link[len(link)-1] != ']' {
		return 0, false
	}
	return parseDecimal(link[len(prefix) : len(link)-1])
}
