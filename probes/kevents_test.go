package probes

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vitals-dev/vitals/model"
)

// Lines of a v1 memory-cgroup OOM kill as this kernel logs them.
var kmsgOOM = []string{
	"4,1201,3001000,-;probes.test invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n",
	"6,1210,3001100,-;memory: usage 32768kB, limit 32768kB, failcnt 120\n",
	"6,1211,3001110,-;memory+swap: usage 32768kB, limit 9007199254740988kB, failcnt 0\n",
	"6,1220,3001200,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/vitals-oomtest-1,task_memcg=/vitals-oomtest-1,task=probes.test,pid=1233,uid=0\n",
	"3,1221,3001300,-;Memory cgroup out of memory: Killed process 1233 (probes.test) total-vm:1261004kB, anon-rss:47616kB, file-rss:8084kB, shmem-rss:0kB, UID:0 pgtables:260kB oom_score_adj:0\n",
}

func TestKmsgParserOOMKill(t *testing.T) {
	var p kmsgParser
	wall := func(us uint64) time.Time { return time.Unix(0, int64(us)*1000) }
	var got []model.Event
	for _, line := range kmsgOOM {
		if ev, ok := p.record([]byte(line), wall); ok {
			got = append(got, ev)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	ev := got[0]
	d := ev.Data.(*model.OOMKillData)
	if ev.Kind != model.EventOOMKill || ev.PID != 1233 || ev.Comm != "probes.test" || !ev.Time.Equal(wall(3001300)) {
		t.Errorf("event %+v", ev)
	}
	if d.VictimCgroup != "/vitals-oomtest-1" || d.CgroupOf != "victim" || d.Constraint != "memcg" ||
		d.CgroupLimitBytes != model.Known(32<<20) || d.VictimAnonRSSBytes != model.Known(47616*1024) ||
		d.VictimFileRSSBytes != model.Known(8084*1024) || d.VictimPgtablesBytes != model.Known(260*1024) {
		t.Errorf("data %+v", d)
	}
	// A global OOM kill: no cgroup limit.
	ev, ok := p.record([]byte("3,1300,4000000,-;Out of memory: Killed process 77 (hog) total-vm:10kB, anon-rss:5kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:4kB oom_score_adj:500\n"), wall)
	if !ok || ev.Data.(*model.OOMKillData).Constraint != "global" || ev.Data.(*model.OOMKillData).CgroupLimitBytes.OK || ev.Data.(*model.OOMKillData).VictimOOMScoreAdj != 500 {
		t.Errorf("global kill %+v %v", ev, ok)
	}
}

// Without eBPF, processes new in the table are exec events and vanished
// ones exit events; the baseline frame produces none.
func TestExecExitScannerFallback(t *testing.T) {
	p, _ := NewExecExitProbe(ExecExitConfig{ForceTier: model.TierProcfs, ProcfsReason: "test"})
	defer p.Close()
	if p.reader != nil || p.feature.Tier != model.TierProcfs || p.feature.Fallback == "" {
		t.Fatalf("feature %+v", p.feature)
	}
	t0 := time.Unix(1000, 0)
	cpu := &model.CPU{Online: 1, Total: model.CPUPercent{User: 50, Idle: 50}}
	a := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 10, StartTicks: 5, Comm: "a", Cmdline: "a -x"}}
	b := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 11, StartTicks: 6, Comm: "b", Cmdline: "b", StartTime: t0}}
	b.CPUTimeTicks = 50
	c := model.Process{ProcessIdentity: model.ProcessIdentity{PID: 12, StartTicks: 7, Comm: "c", Cmdline: "c --go fast", StartTime: t0.Add(time.Second)}}
	frame := func(now time.Time, procs ...model.Process) *model.Sample {
		part, err := p.Collect(&Tick{Now: now, Frame: &model.Sample{CPU: cpu, Processes: procs}})
		if err != nil {
			t.Fatal(err)
		}
		s := &model.Sample{}
		if part != nil {
			part(s)
		}
		return s
	}
	if s := frame(t0, a, b); s.ShortLived != nil || len(p.queue.Drain(nil)) != 0 {
		t.Fatal("baseline produced output")
	}
	s := frame(t0.Add(time.Second), a, c)
	evs := p.queue.Drain(nil)
	if len(evs) != 2 {
		t.Fatalf("events %+v", evs)
	}
	for _, ev := range evs {
		switch ev.Kind {
		case model.EventExec:
			d := ev.Data.(*model.ExecData)
			if ev.PID != 12 || len(d.Args) != 3 || d.Args[1] != "--go" || ev.Source != model.SourceScanner {
				t.Errorf("exec %+v %+v", ev, d)
			}
		case model.EventExit:
			d := ev.Data.(*model.ExitData)
			if ev.PID != 11 || d.ExitCode.OK || d.CPUS != model.Known(0.5) || d.LifetimeS != model.Known(1) {
				t.Errorf("exit %+v %+v", ev, d)
			}
		}
	}
	sl := s.ShortLived
	if sl == nil || sl.Source != model.SourceScanner || sl.Interval.Count != 1 || sl.Interval.CPUS.OK || sl.Note == "" {
		t.Errorf("short-lived %+v", sl)
	}
}

// The constraint of a kill the mark_victim tiers report: from the kernel
// log's line for the victim (an ancestor's limit named as such), else
// inferred from the victim's cgroup at its limit, else null with why.
func TestOOMConstraintForVictimTiers(t *testing.T) {
	l, ok := parseOOMLineRecord([]byte(kmsgOOM[3]))
	if !ok || l != (oomLine{pid: 1233, constraint: "memcg", oomMemcg: "/vitals-oomtest-1"}) {
		t.Fatalf("parsed %+v %v", l, ok)
	}
	if _, ok := parseOOMLineRecord([]byte(kmsgOOM[4])); ok {
		t.Error("a Killed process line taken for an oom-kill line")
	}
	lines := &kmsgOOMLines{fd: -1}
	lines.recent[0] = l
	lines.recent[1] = oomLine{pid: 50, constraint: "memcg", oomMemcg: "/parent"}
	lines.recent[2] = oomLine{pid: 60, constraint: "global"}
	lines.next = 3
	p := &OOMKillProbe{lines: lines, cgroups: newCgroupIDs(t.TempDir()), feature: model.Feature{Tier: "tp_btf"}}
	const mib = 1 << 20
	victim := func(pid int32, cg string, limit, usage float64) *model.OOMKillData {
		return &model.OOMKillData{VictimPID: pid, VictimCgroup: cg, CgroupOf: "victim",
			CgroupLimitBytes: model.Known(limit), CgroupUsageBytes: model.Known(usage)}
	}
	d := victim(1233, "/vitals-oomtest-1", 32*mib, 32*mib)
	p.fillConstraint(d)
	if d.Constraint != "memcg" || d.ConstraintSource != "kernel log" || d.VictimCgroup != "/vitals-oomtest-1" || d.CgroupOf != "victim" {
		t.Errorf("own cgroup's limit: %+v", d)
	}
	d = victim(50, "/parent/child", 1<<40, 10*mib)
	p.fillConstraint(d)
	if d.Constraint != "memcg" || d.VictimCgroup != "/parent" || d.CgroupOf != "oom" || d.CgroupLimitBytes.OK {
		t.Errorf("ancestor's limit: %+v", d)
	}
	d = victim(60, "/", 1<<40, 10*mib)
	p.fillConstraint(d)
	if d.Constraint != "global" || d.ConstraintSource != "kernel log" {
		t.Errorf("global: %+v", d)
	}
	// Not in the log: 32 MiB - 100 KiB used of 32 MiB is at the limit,
	// 20 MiB is not.
	d = victim(70, "/x", 32*mib, 32*mib-100<<10)
	p.fillConstraint(d)
	if d.Constraint != "memcg" || !strings.HasPrefix(d.ConstraintSource, "inferred") || d.ConstraintReason != "" {
		t.Errorf("at the limit: %+v", d)
	}
	d = victim(71, "/x", 32*mib, 20*mib)
	p.fillConstraint(d)
	if d.Constraint != "" || !strings.Contains(d.ConstraintReason, "rate-limits") {
		t.Errorf("below the limit: %+v", d)
	}
	p.lines, p.linesErr = nil, os.ErrPermission
	d = victim(72, "/x", 32*mib, 20*mib)
	p.fillConstraint(d)
	if d.Constraint != "" || !strings.Contains(d.ConstraintReason, "kernel log unreadable (permission denied)") {
		t.Errorf("no log: %+v", d)
	}
	b, _ := json.Marshal(d)
	if !strings.Contains(string(b), `"constraint":null`) || !strings.Contains(string(b), `"constraint_reason":"the tp_btf tier`) {
		t.Errorf("JSON %s", b)
	}
}
