package model

const chunkLen = 64

// chunk is a block of values; once full it is never written again, which is
// what lets snapshots share it without copying or locking.
type chunk[T any] [chunkLen]T

// ring is a fixed-capacity append-only history of values (metric points,
// kernel events). It keeps full chunks (immutable) plus a tail being filled.
// Only the Store's writer touches it; readers get frozen views.
type ring[T any] struct {
	full     []*chunk[T]
	tail     *chunk[T]
	tailLen  int
	capacity int
}

func (r *ring[T]) append(v T) {
	if r.tail == nil || r.tailLen == chunkLen {
		if r.tail != nil {
			r.full = append(r.full, r.tail)
		}
		r.tail = new(chunk[T])
		r.tailLen = 0
		// Drop whole chunks beyond capacity. Re-slicing never writes into
		// what an older view can see: appends land past every view's end.
		maxFull := (r.capacity + chunkLen - 1) / chunkLen
		if len(r.full) > maxFull {
			r.full = r.full[len(r.full)-maxFull:]
		}
	}
	r.tail[r.tailLen] = v
	r.tailLen++
}

// view freezes the ring: full chunks are shared, the tail is copied.
func (r *ring[T]) view() ringView[T] {
	v := ringView[T]{full: r.full[:len(r.full):len(r.full)], capacity: r.capacity}
	if r.tail != nil {
		v.tail = append([]T(nil), r.tail[:r.tailLen]...)
	}
	return v
}

// ringView is an immutable copy of a ring at the time of a snapshot.
type ringView[T any] struct {
	full     []*chunk[T]
	tail     []T
	capacity int
}

// Len is the number of values, at most the ring's capacity.
func (v ringView[T]) Len() int {
	n := len(v.full)*chunkLen + len(v.tail)
	if n > v.capacity {
		n = v.capacity
	}
	return n
}

// At returns the i-th value, 0 being the oldest retained.
func (v ringView[T]) At(i int) T {
	total := len(v.full)*chunkLen + len(v.tail)
	i += total - v.Len()
	if c := i / chunkLen; c < len(v.full) {
		return v.full[c][i%chunkLen]
	}
	return v.tail[i-len(v.full)*chunkLen]
}

// Reuse empties s for refilling while keeping its array, after zeroing all
// of it: the garbage collector scans a slice's whole array, so pointers past
// the new length keep what they point to alive (the process tables' rows
// kept every frame of a 10,000-process burst, 31 MB, after it ended). An
// array far larger than what it last held is dropped instead, so a burst's
// capacity does not stay either.
func Reuse[T any](s []T) []T {
	if cap(s) > 1024 && cap(s) > 4*len(s) {
		return nil
	}
	clear(s[:cap(s)])
	return s[:0]
}
