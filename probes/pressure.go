package probes

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/prometheus/procfs"

	"github.com/vitals-dev/vitals/model"
)

// readSystemPressure reads /proc/pressure/<resource> (cpu, memory, io), or
// says in words why it cannot: the reason is what the UI shows instead of
// a number.
func readSystemPressure(pfs procfs.FS, procRoot, resource string) (*model.Pressure, string) {
	path := filepath.Join(procRoot, "pressure", resource)
	stats, err := pfs.PSIStatsForResource(resource)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, psiMissing
	case errors.Is(err, syscall.EOPNOTSUPP):
		return nil, "PSI is compiled in but disabled (kernel booted with psi=0)"
	case err != nil:
		return nil, fmt.Sprintf("read %s: %v", path, err)
	case stats.Some == nil:
		return nil, fmt.Sprintf("%s has no \"some\" line", path)
	}
	avg := func(l *procfs.PSILine) model.PressureAvg {
		return model.PressureAvg{Avg10: l.Avg10, Avg60: l.Avg60, Avg300: l.Avg300, TotalUs: l.Total}
	}
	psi := &model.Pressure{Some: avg(stats.Some)}
	if stats.Full != nil {
		full := avg(stats.Full)
		psi.Full = &full
	}
	return psi, ""
}
