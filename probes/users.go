package probes

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// userNames maps uids to login names from a passwd(5) file. The file is read
// once; it is read again only when a uid is missing and the file changed
// since (a user added while vitals runs), at most once per scan. The scanner
// asks only for processes that are new or changed uid, so a steady state
// costs nothing.
type userNames struct {
	path    string
	names   map[uint32]string // from the file
	numeric map[uint32]string // uids the file lacks, shown as decimal as ps does
	modTime time.Time
	size    int64
	checked uint64 // scan generation of the last look at the file
}

func newUserNames(path string) *userNames {
	u := &userNames{path: path, numeric: map[uint32]string{}}
	u.load()
	return u
}

// load (re)reads the file. A missing or unreadable file leaves every uid
// numeric: names are a convenience, not worth failing the scanner for.
func (u *userNames) load() {
	u.names = map[uint32]string{}
	clear(u.numeric)
	info, err := os.Stat(u.path)
	if err != nil {
		u.modTime, u.size = time.Time{}, -1
		return
	}
	u.modTime, u.size = info.ModTime(), info.Size()
	data, err := os.ReadFile(u.path)
	if err != nil {
		return
	}
	u.names = parsePasswd(data)
}

// name returns the login name for uid. gen is the scanner's generation: the
// file is looked at again at most once per generation.
func (u *userNames) name(uid uint32, gen uint64) string {
	if n, ok := u.names[uid]; ok {
		return n
	}
	if u.checked != gen {
		u.checked = gen
		if u.changed() {
			u.load()
			if n, ok := u.names[uid]; ok {
				return n
			}
		}
	}
	if n, ok := u.numeric[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	u.numeric[uid] = n
	return n
}

func (u *userNames) changed() bool {
	info, err := os.Stat(u.path)
	if err != nil {
		return u.size != -1
	}
	return !info.ModTime().Equal(u.modTime) || info.Size() != u.size
}

// parsePasswd reads "name:password:uid:gid:gecos:home:shell" lines. When two
// lines share a uid the first wins, as with getpwuid(3).
func parsePasswd(data []byte) map[uint32]string {
	names := map[uint32]string{}
	for len(data) > 0 {
		var line []byte
		line, data = cutLine(data)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		fields := bytes.SplitN(line, []byte{':'}, 4)
		if len(fields) < 4 || len(fields[0]) == 0 {
			continue
		}
		uid, ok := parseDecimal(fields[2])
		if !ok || uid > 1<<32-1 {
			continue
		}
		if _, dup := names[uint32(uid)]; !dup {
			names[uint32(uid)] = string(fields[0])
		}
	}
	return names
}
