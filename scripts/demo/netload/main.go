//go:build linux

// Command netload is the training load of the Net tab's scenarios (see
// ../README.md): a small-packet UDP flood and its sink, a bulk TCP transfer
// and its sink, and a server that never closes the connections its clients
// close (CLOSE-WAIT sockets pile up). The demo scripts run it through
// symlinks named demo-…, so the kernel names each process after its role.
//
// Every mode stops by itself after -d (at most 10 minutes) and when its
// parent dies, so a killed demo script leaves nothing running.
//
// Usage: netload MODE [-addr HOST:PORT] [-d 60s] [-size N] [-rate N]
//
//	flood    send -size byte UDP datagrams to -addr as fast as possible
//	udpsink  read UDP datagrams on -addr
//	bulk     connect to -addr and write as fast as possible
//	tcpsink  accept on -addr and read everything, closing what peers close
//	leaky    accept on -addr, read until the peer closes, never close(2)
//	client   -rate connections/s to -addr: connect, write a line, close
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const maxDuration = 10 * time.Minute

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netload flood|udpsink|bulk|tcpsink|leaky|client [flags]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to send to or listen on")
	d := fs.Duration("d", 60*time.Second, "how long to run (at most 10m)")
	size := fs.Int("size", 18, "flood: datagram payload bytes (1..1472)")
	rate := fs.Int("rate", 20, "client: connections per second (1..1000)")
	fs.Parse(os.Args[2:])
	if *d <= 0 || *d > maxDuration {
		fail(fmt.Errorf("-d %v: want 1s to %v", *d, maxDuration))
	}
	// Stop when the demo script goes, however it went.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0); errno != 0 {
		fail(fmt.Errorf("prctl(PR_SET_PDEATHSIG): %w", errno))
	}
	if os.Getppid() == 1 {
		return // the parent died before prctl
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	deadline := time.Now().Add(*d)
	go func() {
		select {
		case <-sig:
		case <-time.After(*d):
		}
		os.Exit(0)
	}()
	var err error
	switch mode {
	case "flood":
		err = flood(*addr, *size, deadline)
	case "udpsink":
		err = udpSink(*addr)
	case "bulk":
		err = bulk(*addr, deadline)
	case "tcpsink":
		err = tcpSink(*addr, false)
	case "leaky":
		err = tcpSink(*addr, true)
	case "client":
		err = client(*addr, *rate, deadline)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "netload:", err)
	os.Exit(2)
}

// retry dials until the peer is up (the sink may start a moment later).
func retry(network, addr string, deadline time.Time) (net.Conn, error) {
	for {
		c, err := net.Dial(network, addr)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func flood(addr string, size int, deadline time.Time) error {
	if size < 1 || size > 1472 {
		return fmt.Errorf("-size %d: want 1..1472", size)
	}
	c, err := retry("udp", addr, deadline)
	if err != nil {
		return err
	}
	buf := make([]byte, size)
	var sent uint64
	for time.Now().Before(deadline) {
		for range 1024 {
			// A refused datagram (no sink yet) is fine: keep flooding.
			if _, err := c.Write(buf); err == nil {
				sent++
			}
		}
	}
	fmt.Printf("netload: flood sent %d datagrams of %d bytes\n", sent, size)
	return nil
}

func udpSink(addr string) error {
	c, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	buf := make([]byte, 65536)
	for {
		if _, _, err := c.ReadFrom(buf); err != nil {
			return err
		}
	}
}

func bulk(addr string, deadline time.Time) error {
	buf := make([]byte, 256<<10)
	for time.Now().Before(deadline) {
		c, err := retry("tcp", addr, deadline)
		if err != nil {
			return err
		}
		for time.Now().Before(deadline) {
			if _, err := c.Write(buf); err != nil {
				break // the sink went: connect again
			}
		}
		c.Close()
	}
	return nil
}

// tcpSink accepts and reads every connection to its end; leaky then keeps
// the socket open instead of closing it: the kernel has the peer's FIN, the
// application never calls close(2), and the socket stays in CLOSE-WAIT.
func tcpSink(addr string, leak bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if strings.HasSuffix(addr, ":0") {
		fmt.Println("listening", ln.Addr()) // the script reads the port
	}
	var leaked []net.Conn // kept referenced: the GC must not close them
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if leak {
			leaked = append(leaked, c)
			if len(leaked) > 20000 {
				return fmt.Errorf("leaked %d connections: stopping before the fd limit", len(leaked))
			}
		}
		go func() {
			io.Copy(io.Discard, c)
			if !leak {
				c.Close()
			}
		}()
	}
}

func client(addr string, rate int, deadline time.Time) error {
	if rate < 1 || rate > 1000 {
		return fmt.Errorf("-rate %d: want 1..1000", rate)
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	n := 0
	for range tick.C {
		if time.Now().After(deadline) {
			break
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			continue
		}
		fmt.Fprintf(c, "request %d\n", n)
		c.Close()
		n++
	}
	fmt.Printf("netload: client made %d connections\n", n)
	return nil
}
