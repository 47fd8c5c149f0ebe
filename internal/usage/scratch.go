package usage

// maxKeptBuffer bounds the size of a buffer a committer keeps for its next group: a rare huge
// group does not pin its memory.
const maxKeptBuffer = 8 << 20

// scratch holds one committer's buffers, reused from group to group so that a steady load
// allocates little. It is used by one goroutine at a time.
type scratch struct {
	copyBuf   []byte // the binary COPY stream of the group's new events
	keys      []byte // array parameters of the key claim
	hashes    []byte
	times     []byte
	subjects  []byte  // array parameter of the closed periods lookup
	subjectOf []int32 // each fresh event's subject id in roll.subjects
	roll      rollups
}

// trim drops the buffers that grew beyond maxKeptBuffer.
func (sc *scratch) trim() {
	sc.copyBuf, sc.keys, sc.hashes, sc.times, sc.subjects = keep(sc.copyBuf), keep(sc.keys), keep(sc.hashes), keep(sc.times), keep(sc.subjects)
	for i := range sc.roll.cols {
		sc.roll.cols[i].buf = keep(sc.roll.cols[i].buf)
	}
}

// keep returns b emptied for reuse, or nil when it is too large to keep.
func keep(b []byte) []byte {
	if cap(b) > maxKeptBuffer {
		return nil
	}
	return b[:0]
}
