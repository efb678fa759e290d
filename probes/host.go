package probes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/procfs"

	"github.com/vitals-dev/vitals/model"
)

// ReadHost reads what the header shows about the machine: hostname and
// kernel release from /proc/sys/kernel, boot time from btime in /proc/stat.
// Mode is left for main to set. On error the fields that could be read are
// still filled in, so the header can show them.
func ReadHost(procRoot string) (model.Host, error) {
	if procRoot == "" {
		procRoot = procfs.DefaultMountPoint
	}
	h := model.Host{ClockTicks: userHZ}
	var errs []error
	readLine := func(rel string) string {
		path := filepath.Join(procRoot, rel)
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", path, err))
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	h.Hostname = readLine("sys/kernel/hostname")
	h.Kernel = readLine("sys/kernel/osrelease")

	stat, err := readStat(procRoot)
	switch {
	case err != nil:
		errs = append(errs, err)
	case stat.BootTime == 0:
		errs = append(errs, fmt.Errorf("%s has no btime line", filepath.Join(procRoot, "stat")))
	default:
		h.BootTime = time.Unix(int64(stat.BootTime), 0)
	}
	return h, errors.Join(errs...)
}

func readStat(procRoot string) (procfs.Stat, error) {
	pfs, err := procfs.NewFS(procRoot)
	if err == nil {
		var stat procfs.Stat
		if stat, err = pfs.Stat(); err == nil {
			return stat, nil
		}
	}
	return procfs.Stat{}, fmt.Errorf("read %s: %w", filepath.Join(procRoot, "stat"), err)
}
