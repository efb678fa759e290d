package proctable

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
	"github.com/vitals-dev/vitals/ui/internal/uitest"
)

// testCols mirrors what the CPU tab shows, with deterministic formatting.
func testCols() []Column {
	return []Column{
		{ID: "pid", Title: "PID", Width: 7, Align: AlignRight,
			Value: func(p *model.Process) string { return strconv.Itoa(int(p.PID)) },
			Less:  func(a, b *model.Process) bool { return a.PID < b.PID },
			Help:  "process id"},
		{ID: "user", Title: "USER", Width: 8,
			Value: func(p *model.Process) string { return p.User },
			Less:  func(a, b *model.Process) bool { return a.User < b.User },
			Help:  "owner"},
		{ID: "state", Title: "S", Width: 1,
			Value: func(p *model.Process) string { return p.State },
			Less:  func(a, b *model.Process) bool { return a.State < b.State }},
		{ID: "cpu", Title: "%CPU", Width: 6, Align: AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Pct(p.CPUPct) },
			Less:  func(a, b *model.Process) bool { return a.CPUPct < b.CPUPct },
			Help:  "100 = one full CPU"},
		{ID: "rss", Title: "RSS", Width: 6, Align: AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return common.Bytes(p.RSSBytes) },
			Less:  func(a, b *model.Process) bool { return a.RSSBytes < b.RSSBytes }},
		{ID: "time", Title: "TIME+", Width: 9, Align: AlignRight, DescendingFirst: true,
			Value: func(p *model.Process) string { return cpuTime(p.CPUTimeTicks) },
			Less:  func(a, b *model.Process) bool { return a.CPUTimeTicks < b.CPUTimeTicks }},
		{ID: "command", Title: "COMMAND", Width: 10,
			Value: func(p *model.Process) string {
				if p.Cmdline != "" {
					return p.Cmdline
				}
				return "[" + p.Comm + "]"
			},
			Less: func(a, b *model.Process) bool { return a.Comm < b.Comm }},
	}
}

// cpuTime formats ticks (100/s) as top's TIME+: m:ss.cc.
func cpuTime(ticks uint64) string {
	two := func(v uint64) string { return string([]byte{byte('0' + v/10), byte('0' + v%10)}) }
	return strconv.FormatUint(ticks/6000, 10) + ":" + two(ticks/100%60) + "." + two(ticks%100)
}

func proc(pid, ppid int32, user, comm, cmdline string, cpu float64) model.Process {
	return model.Process{ProcessIdentity: model.ProcessIdentity{PID: pid, PPID: ppid, StartTicks: uint64(pid) * 10, User: user, Comm: comm, Cmdline: cmdline, State: "S", Threads: 1}, ProcessCPU: model.ProcessCPU{ProcessCPURates: model.ProcessCPURates{CPUPct: cpu}, CPUTimeTicks: uint64(pid%89) * 1234}, ProcessMemory: model.ProcessMemory{RSSBytes: uint64(pid%97+1) * 1 << 20}}
}

// fakeProcs is a small, fixed system: init with sshd, nginx and a python
// supervisor, kernel threads under kthreadd, and one process with an
// escape sequence in its name.
func fakeProcs() []model.Process {
	ps := []model.Process{
		proc(1, 0, "root", "systemd", "/sbin/init splash", 0.3),
		proc(2, 0, "root", "kthreadd", "", 0),
		proc(15, 2, "root", "kworker/0:1", "", 0.7),
		proc(16, 2, "root", "ksoftirqd/0", "", 1.2),
		proc(500, 1, "root", "sshd", "sshd: /usr/sbin/sshd -D", 0),
		proc(900, 500, "root", "sshd", "sshd: alice [priv]", 0.1),
		proc(901, 900, "alice", "bash", "-bash", 0.2),
		proc(950, 901, "alice", "vim", "vim notes.txt", 2.5),
		proc(951, 901, "alice", "top", "top -d 1", 4.1),
		proc(700, 1, "root", "nginx", "nginx: master process /usr/sbin/nginx", 0.4),
		proc(701, 700, "www-data", "nginx", "nginx: worker process", 12.5),
		proc(702, 700, "www-data", "nginx", "nginx: worker process", 12.5),
		proc(703, 700, "www-data", "nginx", "nginx: worker process", 9.0),
		proc(1200, 1, "postgres", "postgres", "/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main", 35.0),
		proc(1201, 1200, "postgres", "postgres", "postgres: checkpointer", 0.5),
		proc(1202, 1200, "postgres", "postgres", "postgres: walwriter", 1.5),
		proc(1300, 1, "root", "\x1b[31mevil", "", 66.6),
		proc(2000, 1, "svc", "supervisord", "/usr/bin/python3 /usr/bin/supervisord -n", 0.9),
	}
	for i := range int32(34) {
		pid := 2100 + i
		ps = append(ps, proc(pid, 2000, "svc", "python3",
			fmt.Sprintf("python3 -m worker --queue=q%02d --concurrency=4", i), float64((i*37)%100)/4))
	}
	return ps
}

func newTable(t *testing.T, w, h int) (*Table, *[]killCall) {
	t.Helper()
	calls := &[]killCall{}
	kill := func(k model.ProcKey, sig int) error {
		*calls = append(*calls, killCall{k, sig})
		return nil
	}
	tb := New(common.NewContext(true), testCols(), "cpu", kill)
	tb.SetSize(w, h)
	tb.SetProcesses(fakeProcs())
	return tb, calls
}

type killCall struct {
	key model.ProcKey
	sig int
}

func press(tb *Table, keys ...string) {
	for _, k := range keys {
		tb.Update(uitest.Key(k))
	}
}

// typeText sends each rune of s as a key press.
func typeText(tb *Table, s string) {
	for _, r := range s {
		if r == ' ' {
			tb.Update(uitest.Key("space"))
			continue
		}
		tb.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func plainView(tb *Table) string { return ansi.Strip(tb.View()) }

func viewLines(tb *Table) []string { return strings.Split(plainView(tb), "\n") }

// rowPIDs lists the PIDs in display order.
func rowPIDs(tb *Table) []int32 {
	out := make([]int32, len(tb.rows))
	for i, r := range tb.rows {
		out[i] = r.p.PID
	}
	return out
}

func selectedPID(t *testing.T, tb *Table) int32 {
	t.Helper()
	k, ok := tb.Selected()
	if !ok {
		t.Fatal("no selection")
	}
	return k.PID
}
