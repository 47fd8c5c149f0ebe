package usage

// HoldCommits makes the committers take nothing until n batches are queued, then take them as
// one group (up to the group's event cap): a deterministic group for tests.
func HoldCommits(in *Ingester, n int) {
	in.queue.mu.Lock()
	defer in.queue.mu.Unlock()
	in.queue.hold = n
}

// Queued returns how many batches wait for a committer.
func Queued(in *Ingester) int {
	in.queue.mu.Lock()
	defer in.queue.mu.Unlock()
	return len(in.queue.batches)
}

// SetSlotBase makes committer i write rollup slot (base+i) % 64 from its next group on.
func SetSlotBase(in *Ingester, base int) { in.slotBase.Store(int32(base % maxRollupSlots)) }

// QuerySQL is the statement Query runs for a validated p, and its arguments.
func QuerySQL(m *Meter, p QueryParams) (string, []any) { return querySQL(m, p) }
