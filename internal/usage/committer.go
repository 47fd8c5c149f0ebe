package usage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
)

// ErrClosed means the Ingester was closed: the batch was not stored.
var ErrClosed = errors.New("usage ingester is closed")

// commitTimeout bounds one group transaction once a committer has taken it; the callers' contexts
// no longer cancel it then (see Ingest).
const commitTimeout = 2 * time.Minute

// commitAttempts is how often a group transaction is tried when it fails with a deadlock or a
// serialization failure.
const commitAttempts = 5

// batchState is where a queued batch is; it changes only under the queue's lock.
type batchState int8

const (
	batchQueued    batchState = iota // waiting for a committer; its caller may still withdraw it
	batchTaken                       // in a group transaction: its caller no longer cancels it
	batchWithdrawn                   // its caller's context ended first: never stored
)

// batch is one Ingest call's checked events on their way through a group commit.
type batch struct {
	ctx    context.Context // the caller's, for its values only once taken
	preps  []prepared
	unique []int // indexes of the batch's first occurrence of each key
	opts   IngestOptions
	state  batchState
	done   chan error // the group's outcome; buffered so the committer never waits for the caller
}

// commitQueue holds the batches waiting for a committer, in arrival order.
type commitQueue struct {
	mu      sync.Mutex
	batches []*batch
	events  int // events of the queued batches
	busy    int // committers in a group transaction
	closed  bool
	hold    int           // test hook: take nothing until this many batches are queued
	wake    chan struct{} // signalled when batches are queued (capacity 1)
	closing chan struct{} // closed by Close
}

func newCommitQueue() *commitQueue {
	return &commitQueue{wake: make(chan struct{}, 1), closing: make(chan struct{})}
}

func (q *commitQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push queues b for a committer.
func (q *commitQueue) push(b *batch) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	q.batches = append(q.batches, b)
	q.events += len(b.preps)
	q.signal()
	return nil
}

// withdraw takes b back out of the queue if no committer took it yet and reports whether it did.
func (q *commitQueue) withdraw(b *batch) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if b.state != batchQueued {
		return false
	}
	b.state = batchWithdrawn
	q.batches = slices.DeleteFunc(q.batches, func(x *batch) bool { return x == b })
	q.events -= len(b.preps)
	return true
}

// take removes the queued batches from the front while their events fit in maxEvents (at least
// one batch) and counts the caller as busy until it calls finished. While another committer is
// busy it leaves a lone batch of less than half of maxEvents queued: waiting lets more batches
// join its group (rollup rows per event fall as groups grow), and the busy committer takes it
// when done if no other batch comes. It returns no batches when there is nothing to take yet, and
// done once the queue is closed and empty.
func (q *commitQueue) take(maxEvents int) (group []*batch, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.batches) == 0 {
		return nil, q.closed
	}
	switch {
	case q.closed: // drain
	case q.hold > 0:
		if len(q.batches) < q.hold {
			return nil, false
		}
	case q.busy > 0 && len(q.batches) == 1 && q.events < maxEvents/2:
		return nil, false
	}
	q.hold = 0
	events, n := 0, 0
	for _, b := range q.batches {
		if n > 0 && events+len(b.preps) > maxEvents {
			break
		}
		events += len(b.preps)
		b.state = batchTaken
		n++
	}
	group = slices.Clone(q.batches[:n])
	q.batches = slices.Delete(q.batches, 0, n)
	q.events -= events
	q.busy++
	if len(q.batches) > 0 {
		q.signal() // more for another committer
	}
	return group, false
}

// finished records that a committer's group transaction ended.
func (q *commitQueue) finished() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.busy--
	if len(q.batches) > 0 {
		q.signal()
	}
}

// close stops the queue from accepting batches; the committers still store the queued ones.
func (q *commitQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.closing)
	}
}

// commitLoop is one committer: it stores the queued batches, as many as fit in one group, in one
// transaction at a time, writing its rollups into its own slot, until the queue is closed and empty.
func (in *Ingester) commitLoop(i int) {
	defer in.committers.Done()
	sc := &scratch{}
	for {
		group, done := in.queue.take(in.opts.MaxGroupEvents)
		if done {
			return
		}
		if len(group) == 0 {
			select {
			case <-in.queue.wake:
			case <-in.queue.closing: // take again: what is left, then done
			}
			continue
		}
		slot := int16((int(in.slotBase.Load()) + i) % maxRollupSlots)
		err := in.commitGroup(sc, group, slot)
		sc.trim()
		in.queue.finished()
		for _, b := range group {
			b.done <- err
		}
	}
}

// groupRepeat is a later batch's occurrence of a key that an earlier batch of the same group holds.
type groupRepeat struct {
	p, first *prepared
}

// commitGroup stores the group's batches in one transaction, retrying deadlocks and serialization
// failures. On success every event of every batch has its status; on failure nothing is stored.
func (in *Ingester) commitGroup(sc *scratch, group []*batch, slot int16) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	// Keys repeated across the group's batches: the first batch in queue order holds the key,
	// later ones are duplicates or conflicts of whatever is stored once it committed.
	events := 0
	for _, b := range group {
		events += len(b.unique)
	}
	fresh := make([]*prepared, 0, events)
	var repeats []groupRepeat
	if len(group) == 1 {
		for _, i := range group[0].unique {
			fresh = append(fresh, &group[0].preps[i])
		}
	} else {
		first := make(map[Key]*prepared, events)
		for _, b := range group {
			for _, i := range b.unique {
				p := &b.preps[i]
				if f, ok := first[p.key]; ok {
					repeats = append(repeats, groupRepeat{p: p, first: f})
					continue
				}
				first[p.key] = p
				fresh = append(fresh, p)
			}
		}
	}
	slices.SortFunc(fresh, func(a, b *prepared) int { return compareKeys(a.key, b.key) })
	var err error
	for attempt := 1; ; attempt++ {
		err = db.InTx(ctx, in.pool, func(tx pgx.Tx) error { return in.storeGroup(ctx, tx, sc, slot, group, fresh, repeats) })
		if err == nil || attempt == commitAttempts {
			break
		}
		code := db.PgCode(err)
		if code != "40P01" && code != "40001" {
			break
		}
		in.opts.Logger.Warn("usage ingest retried", "attempt", attempt, "sqlstate", code, "batches", len(group))
	}
	if err != nil {
		sc.roll.written.rolledBack()
		return fmt.Errorf("store a group of %d batches: %w", len(group), err)
	}
	sc.roll.written.committed()
	return nil
}

// resolveRepeats gives each later occurrence of a key in the group the status it would have had
// if the batches had committed one after another: compared with the content stored for the key
// (the first occurrence's if the group stored it, the earlier stored event's otherwise).
func resolveRepeats(repeats []groupRepeat, existing map[Key][16]byte) {
	for _, r := range repeats {
		stored := r.first.hash
		if r.first.status == Duplicate || r.first.status == Conflict {
			stored = existing[r.first.key]
		}
		if r.p.hash == stored {
			r.p.status = Duplicate
		} else {
			r.p.status = Conflict
		}
	}
}

// hookContext is the context a batch's InTx hook runs with: the caller's values, the group
// transaction's deadline, never the caller's cancellation.
func hookContext(caller, tx context.Context) (context.Context, context.CancelFunc) {
	c := context.WithoutCancel(caller)
	if d, ok := tx.Deadline(); ok {
		return context.WithDeadline(c, d)
	}
	return context.WithCancel(c)
}
