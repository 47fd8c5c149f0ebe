package usage

// maxKeptBuffer bounds the size of a buffer a committer keeps for its next group: a rare huge
// group does not pin its memory.
const maxKeptBuffer = 8 << 20

// scratch holds one committer's buffers, reused from group to group so that a steady load
// allocates little. It is used by one goroutine at a time.
type scratch struct {
	copyBuf []byte // the binary COPY stream of the group's new events
}

// trim drops the buffers that grew beyond maxKeptBuffer.
func (sc *scratch) trim() {
	sc.copyBuf = keep(sc.copyBuf)
}

// keep returns b emptied for reuse, or nil when it is too large to keep.
func keep(b []byte) []byte {
	if cap(b) > maxKeptBuffer {
		return nil
	}
	return b[:0]
}
