package disktab

import (
	"strconv"
	"strings"

	"github.com/vitals-dev/vitals/model"
	"github.com/vitals-dev/vitals/ui/common"
)

// Thresholds of the words the tab says. They are rules of thumb, stated in
// the help: the screen says which one fired.
const (
	fsFullPct = 90 // df Use% or IUse% above this is a warning
	// busyPct is "%util near 100".
	busyPct = 90
	// slowAwaitHDD and slowAwaitSSD are a mean await that is high for a
	// request that did not queue: what a healthy device does in well
	// under that.
	slowAwaitHDD = 50.0
	slowAwaitSSD = 10.0
	// lowUtilPct: a device this idle that still answers slowly is slow
	// itself, not queueing.
	lowUtilPct = 30
	// risingFactor: await this many times its recent mean is "rising".
	risingFactor = 2.0
	psiSomeWarn  = 10.0 // % of time some task stalled on I/O (avg10)
	psiFullWarn  = 5.0
)

// awaitRising says whether the newest point of hist (await, ms) is well
// above the mean of the points before it (up to 30), and that mean.
func awaitRising(hist []float64) (bool, float64) {
	if len(hist) < 4 {
		return false, 0
	}
	last := hist[len(hist)-1]
	prev := hist[max(0, len(hist)-31) : len(hist)-1]
	sum := 0.0
	for _, v := range prev {
		sum += v
	}
	mean := sum / float64(len(prev))
	return last > risingFactor*mean && last-mean > 1, mean
}

func ms(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
}

func deviceName(d *model.DiskDevice) string {
	n := model.Sanitize(d.Name)
	if d.Label != "" {
		n += " (" + model.Sanitize(d.Label) + ")"
	}
	return n
}

func slowAwait(d *model.DiskDevice) float64 {
	if d.Parallel() {
		return slowAwaitSSD
	}
	return slowAwaitHDD
}

// Verdict is one device's saturation in words: what %util, aqu-sz and
// await together say. hist is its await history (oldest first).
func Verdict(d *model.DiskDevice, hist []float64) string {
	name := deviceName(d)
	if !d.UtilPct.OK {
		if d.Reason != "" {
			return name + ": no rates this interval (" + d.Reason + ")"
		}
		return name + ": no rates this interval"
	}
	util, aqu := d.UtilPct.V, d.AquSz.Or(0)
	await := d.AwaitMS
	var parts []string
	if util > 100 {
		parts = append(parts, "%util "+common.Pct(util)+" > 100 is a kernel accounting artefact (io_ticks), not more than busy")
	}
	rising, mean := awaitRising(hist)
	switch {
	case await.OK && aqu > 1 && rising:
		parts = append(parts, "queueing: aqu-sz "+common.Fixed2(aqu)+" and await rising to "+ms(await.V)+" (mean "+ms(mean)+" before)")
	case await.OK && await.V > slowAwait(d) && util < lowUtilPct:
		parts = append(parts, "slow device: await "+ms(await.V)+" at only %util "+common.Pct(util)+" — requests are slow without queueing")
	}
	switch {
	case util >= busyPct && d.Parallel():
		parts = append(parts, "%util near 100 is not saturation here: "+parallelWhy(d)+" serves requests in parallel; judge by await and aqu-sz")
	case util >= busyPct && d.Kind == model.DiskKindLoop:
		parts = append(parts, "busy %util "+common.Pct(util)+": a loop device's limits are those of the disk under its backing file; judge by await")
	case util >= busyPct && d.Rotational != nil && *d.Rotational:
		parts = append(parts, "busy: a rotational disk at %util "+common.Pct(util)+" is near saturation")
	case util >= busyPct:
		parts = append(parts, "busy %util "+common.Pct(util)+"; whether that is saturation depends on how many requests the device serves at once")
	}
	if len(parts) == 0 {
		a := common.Dash
		if await.OK {
			a = ms(await.V)
		}
		return name + ": not saturated (%util " + common.Pct(util) + ", aqu-sz " + common.Fixed2(aqu) + ", await " + a + ")"
	}
	return name + ": " + strings.Join(parts, "; ")
}

func parallelWhy(d *model.DiskDevice) string {
	switch d.Kind {
	case model.DiskKindDM:
		return "a device-mapper device (possibly over several disks)"
	case model.DiskKindMD:
		return "a RAID array"
	case model.DiskKindZram:
		return "zram (RAM)"
	}
	return "a non-rotational device (SSD/NVMe)"
}

// Alerts are the thresholds crossed anywhere on the tab, in the tab's
// order (pressure, D state, devices, filesystems) with their severity: a
// stall on I/O, queueing or a slow or busy device is saturation (Warn), a
// filesystem with no space left is damage (Critical: writes fail), the
// rest rules of thumb (Notice). awaitHist gives a device's await history.
func Alerts(d *model.Disk, awaitHist func(name string) []float64) []common.Alert {
	if d == nil {
		return nil
	}
	var out []common.Alert
	add := func(sev common.Severity, text string) { out = append(out, common.Alert{Severity: sev, Text: text}) }
	if p := d.PSI; p != nil {
		if p.Full != nil && p.Full.Avg10 >= psiFullWarn {
			add(common.Warn, "io pressure: all non-idle tasks stalled on I/O "+common.Pct(p.Full.Avg10)+"% of the last 10 s")
		} else if p.Some.Avg10 >= psiSomeWarn {
			add(common.Warn, "io pressure: some task stalled on I/O "+common.Pct(p.Some.Avg10)+"% of the last 10 s")
		}
	}
	if n := len(d.DState); n > 0 {
		l := d.DState[0]
		msg := strconv.Itoa(n) + " in D state; longest " + model.Sanitize(l.Comm) + " (" + strconv.Itoa(int(l.PID)) + ") " + strconv.FormatFloat(l.InDS, 'f', 0, 64) + " s"
		if l.Wchan != "" {
			msg += " in " + model.Sanitize(l.Wchan)
		}
		add(common.Notice, msg)
	}
	for i := range d.Devices {
		dev := &d.Devices[i]
		if dev.Kind == model.DiskKindPartition || !dev.UtilPct.OK || !dev.AwaitMS.OK {
			continue // a partition's disk speaks for it
		}
		rising, mean := awaitRising(awaitHist(dev.Name))
		switch {
		case dev.AquSz.Or(0) > 1 && rising:
			add(common.Warn, deviceName(dev)+" queueing: aqu-sz "+common.Fixed2(dev.AquSz.V)+", await "+ms(dev.AwaitMS.V)+" (was "+ms(mean)+")")
		case dev.AwaitMS.V > slowAwait(dev) && dev.UtilPct.V < lowUtilPct:
			add(common.Warn, deviceName(dev)+" slow: await "+ms(dev.AwaitMS.V)+" at %util "+common.Pct(dev.UtilPct.V))
		case dev.UtilPct.V >= busyPct && dev.Rotational != nil && *dev.Rotational && !dev.Parallel() && dev.Kind != model.DiskKindLoop:
			add(common.Warn, deviceName(dev)+" busy: %util "+common.Pct(dev.UtilPct.V)+", await "+ms(dev.AwaitMS.V))
		}
	}
	out = append(out, slowAlerts(d)...)
	for i := range d.Filesystems {
		fs := &d.Filesystems[i]
		if fs.Pseudo {
			continue
		}
		if fs.UsePct.OK && fs.UsePct.V > fsFullPct {
			sev := common.Notice
			if fs.AvailBytes.OK && fs.AvailBytes.V == 0 {
				sev = common.Critical
			}
			add(sev, model.Sanitize(fs.Mount)+" "+strconv.FormatFloat(fs.UsePct.V, 'f', 0, 64)+"% full ("+common.OptBytes(fs.AvailBytes)+" left)")
		}
		if fs.InodesUsedPct.OK && fs.InodesUsedPct.V > fsFullPct {
			sev := common.Notice
			if fs.InodesUsedPct.V >= 100 {
				sev = common.Critical
			}
			add(sev, model.Sanitize(fs.Mount)+" inodes "+strconv.FormatFloat(fs.InodesUsedPct.V, 'f', 0, 64)+"% used")
		}
	}
	return out
}

// allClear says what the warnings area checked when nothing fired.
const allClear = "no device queueing or slow, filesystems < 90 % full, nothing in D, io PSI low"

// Warnings implements common.Warner: the w list.
func (t *Tab) Warnings() []common.Alert {
	if d := t.disk(); d != nil {
		return Alerts(d, t.awaitHist)
	}
	return nil
}

// slowAlerts are the devices with I/Os at or above the slow threshold this
// interval (eBPF), each with its slowest recent one, and the slow I/Os lost
// on the way to the event log.
func slowAlerts(d *model.Disk) []common.Alert {
	var out []common.Alert
	for i := range d.Devices {
		dev := &d.Devices[i]
		h := dev.LatencyHist
		if h == nil || h.Read.SlowIOs+h.Write.SlowIOs == 0 {
			continue
		}
		msg := deviceName(dev) + ": " + strconv.FormatUint(h.Read.SlowIOs+h.Write.SlowIOs, 10) + " I/Os ≥ " + ms(d.SlowThresholdMS) + " this interval"
		for j := range d.SlowIOs { // slowest first
			if s := &d.SlowIOs[j]; s.Device == dev.Name {
				msg += ", slowest " + SlowIOText(s)
				break
			}
		}
		out = append(out, common.Alert{Severity: common.Warn, Text: msg})
	}
	if l := d.SlowIOLoss; l != nil && l.KernelDropped+l.QueueDropped > 0 {
		out = append(out, common.Alert{Severity: common.Notice, Text: strconv.FormatUint(l.KernelDropped+l.QueueDropped, 10) +
			" slow I/Os lost since start (" + strconv.FormatUint(l.KernelDropped, 10) + " ring buffer full, " + strconv.FormatUint(l.QueueDropped, 10) + " queue full)"})
	}
	return out
}

// SlowIOText is one slow I/O in a few words: latency, R/W, size, process,
// time.
func SlowIOText(s *model.SlowIO) string {
	who := model.Sanitize(s.Comm)
	if s.PID != 0 {
		who += " (" + strconv.Itoa(int(s.PID)) + ")"
	} else {
		who += " (kernel worker: writeback or loop)"
	}
	return ms(s.LatencyMS) + " " + s.Op + " " + common.Bytes(uint64(s.Bytes)) + " by " + who + " at " + s.Time.Format("15:04:05")
}
