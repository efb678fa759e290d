package model

import (
	"slices"
	"testing"
)

// TopRefaulting by hand: /a (1000/s) is mostly its child /a/b (950/s, 95 %)
// and gives way to it; /c (600/s) is not explained by /c/d (100/s); the
// root (2000/s, the whole machine) and zero or unknown rates are never
// named.
func TestTopRefaulting(t *testing.T) {
	cg := func(path string, file, anon Float) MemCgroup {
		return MemCgroup{Path: path, RefaultFilePerS: file, RefaultAnonPerS: anon}
	}
	list := []MemCgroup{
		cg("/", Known(2000), Known(0)),
		cg("/a", Known(900), Known(100)),
		cg("/a/b", Known(950), Unknown),
		cg("/c", Known(600), Known(0)),
		cg("/c/d", Known(100), Known(0)),
		cg("/z", Known(0), Known(0)),
		cg("/u", Unknown, Unknown),
	}
	var got []string
	for _, c := range TopRefaulting(list, 3) {
		got = append(got, c.Path)
	}
	if want := []string{"/a/b", "/c", "/c/d"}; !slices.Equal(got, want) {
		t.Errorf("TopRefaulting = %v, want %v", got, want)
	}
	if r := list[2].RefaultPerS(); r != Known(950) {
		t.Errorf("/a/b rate %v", r)
	}
	if r := list[6].RefaultPerS(); r.OK {
		t.Errorf("unknown rates summed to %v", r)
	}
	if got := TopRefaulting(list[5:], 3); len(got) != 0 {
		t.Errorf("named %v with no refaults", got[0].Path)
	}
}
