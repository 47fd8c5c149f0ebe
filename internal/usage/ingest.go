package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrBusy means every ingest slot stayed taken for the queue wait: the caller should retry later
// (the API answers 503 with Retry-After) instead of queueing more work in memory.
var ErrBusy = errors.New("usage ingestion is at capacity, retry later")

// IngesterOptions tune an Ingester; zero values take the defaults noted on each field.
type IngesterOptions struct {
	MaxInFlight    int           // batches being ingested at once (bounds request bodies in memory); default 16, at most 64
	Committers     int           // group transactions at once; default 2, at most MaxInFlight
	MaxGroupEvents int           // events one group transaction takes from the queued batches (at least one batch); default 30,000
	QueueWait      time.Duration // how long a request may wait for a slot before ErrBusy; default 250ms
	MaxFutureSkew  time.Duration // how far in the future an event time may be; default 5m
	Logger         *slog.Logger  // default slog.Default()
	Now            func() time.Time
}

// maxRollupSlots bounds the rollup rows per meter, subject, hour and group.
const maxRollupSlots = 64

// Ingester validates, deduplicates and durably stores batches of usage events. Its committers
// store the batches queued at the same time together, in one transaction; Close stops them.
type Ingester struct {
	pool       *pgxpool.Pool
	opts       IngesterOptions
	slots      chan struct{} // admission: requests holding a body in memory
	queue      *commitQueue
	committers sync.WaitGroup
	slotBase   atomic.Int32 // committer i writes rollup slot (slotBase+i) % maxRollupSlots
	closeOnce  sync.Once
	meters     atomic.Pointer[MeterSet]
	reloadMu   sync.Mutex
	lastReload time.Time
	partitions sync.Map // month index (year*12+month) -> struct{}
}

// NewIngester loads the meters and returns an Ingester over pool with its committers running;
// call Close when done with it.
func NewIngester(ctx context.Context, pool *pgxpool.Pool, opts IngesterOptions) (*Ingester, error) {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 16
	}
	opts.MaxInFlight = min(opts.MaxInFlight, maxRollupSlots)
	if opts.Committers <= 0 {
		opts.Committers = 2
	}
	opts.Committers = min(opts.Committers, opts.MaxInFlight)
	if opts.MaxGroupEvents <= 0 {
		opts.MaxGroupEvents = 30000
	}
	if opts.QueueWait <= 0 {
		opts.QueueWait = 250 * time.Millisecond
	}
	if opts.MaxFutureSkew <= 0 {
		opts.MaxFutureSkew = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	in := &Ingester{pool: pool, opts: opts, slots: make(chan struct{}, opts.MaxInFlight), queue: newCommitQueue()}
	if err := in.Reload(ctx); err != nil {
		return nil, err
	}
	// Rollup slots: one per committer of this process; a random base keeps processes apart (a
	// collision only makes two transactions wait, never miscounts).
	in.slotBase.Store(int32(rand.IntN(maxRollupSlots)))
	for i := range opts.Committers {
		in.committers.Add(1)
		go in.commitLoop(i)
	}
	return in, nil
}

// Close stops taking batches (Ingest then fails with ErrClosed), lets the committers store the
// batches already queued and waits for them to finish.
func (in *Ingester) Close() {
	in.closeOnce.Do(in.queue.close)
	in.committers.Wait()
}

// Pool returns the database pool the ingester writes to.
func (in *Ingester) Pool() *pgxpool.Pool { return in.pool }

// Meters returns the current meter set.
func (in *Ingester) Meters() *MeterSet { return in.meters.Load() }

// Reload reads the meters from the database.
func (in *Ingester) Reload(ctx context.Context) error {
	ms, err := ListMeters(ctx, in.pool)
	if err != nil {
		return err
	}
	in.meters.Store(NewMeterSet(ms))
	in.reloadMu.Lock()
	in.lastReload = in.opts.Now()
	in.reloadMu.Unlock()
	return nil
}

// CreateMeter stores a meter (idempotent for an identical definition) and reloads the meter set.
func (in *Ingester) CreateMeter(ctx context.Context, m *Meter) (created bool, err error) {
	created, err = InsertMeter(ctx, in.pool, m)
	if err != nil {
		return false, err
	}
	return created, in.Reload(ctx)
}

// Acquire takes an ingest slot, waiting at most the queue wait; call release when the batch is done.
// Callers acquire before reading a request body so that memory stays bounded under overload.
func (in *Ingester) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case in.slots <- struct{}{}:
		return func() { <-in.slots }, nil
	default:
	}
	t := time.NewTimer(in.opts.QueueWait)
	defer t.Stop()
	select {
	case in.slots <- struct{}{}:
		return func() { <-in.slots }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for ingest slot: %w", ctx.Err())
	}
}

// Status is what happened to one event of a batch.
type Status string

// Event statuses reported per batch.
const (
	Stored    Status = "stored"    // new, counted in its period
	Late      Status = "late"      // new, in an invoiced period: stored and queued as an adjustment
	Duplicate Status = "duplicate" // same source+id and content as a stored event (or an earlier one in the batch): not counted again
	Conflict  Status = "conflict"  // same source+id as a stored event but different content: refused
)

// Result summarizes an ingested batch; index lists refer to positions in the batch.
type Result struct {
	Events     int   `json:"events"`
	Stored     int   `json:"stored"`
	Late       []int `json:"late"`
	Duplicates []int `json:"duplicates"`
	Conflicts  []int `json:"conflicts"`
}

// IngestOptions are per-call options.
type IngestOptions struct {
	// InTx runs inside the ingest transaction after the events are merged (e.g. an import checkpoint).
	InTx func(ctx context.Context, tx pgx.Tx) error
}

// prepared is one checked event with its keys and meter readings.
type prepared struct {
	ev       *Event
	key      Key
	hash     [16]byte
	measures []measure
	status   Status
}

// Ingest checks every event (returning *InvalidError listing all problems, storing nothing), then
// queues the batch for a committer, which stores the new events, their rollups and late
// adjustments in one transaction together with the other batches queued at that moment. The
// batch is durable when Ingest returns nil, and its Result is what it would be had the batches of
// its group committed one after another in queue order. If ctx ends while the batch is queued it
// is not stored; once a committer took it, ctx no longer cancels the transaction (Ingest returns
// ctx's error early and the batch may still commit). Events must come from DecodeBatch or DecodeOne
// (or meet their rules); callers should hold a slot from Acquire.
func (in *Ingester) Ingest(ctx context.Context, events []Event, opts IngestOptions) (*Result, error) {
	if len(events) == 0 {
		return nil, &InvalidError{Problems: []Problem{{Index: -1, Field: "body", Reason: "batch is empty"}}}
	}
	if len(events) > MaxBatch {
		return nil, &InvalidError{Events: len(events), Problems: []Problem{{Index: -1, Field: "body", Reason: fmt.Sprintf("batch holds %d events, at most %d allowed", len(events), MaxBatch)}}}
	}
	preps, err := in.prepare(ctx, events)
	if err != nil {
		return nil, err
	}
	res := &Result{Events: len(events), Late: []int{}, Duplicates: []int{}, Conflicts: []int{}}
	// Duplicates inside the batch: the first occurrence wins.
	first := make(map[Key]int, len(preps))
	unique := make([]int, 0, len(preps))
	for i := range preps {
		p := &preps[i]
		if j, ok := first[p.key]; ok {
			if preps[j].hash == p.hash {
				p.status = Duplicate
			} else {
				p.status = Conflict
			}
			continue
		}
		first[p.key] = i
		unique = append(unique, i)
	}
	if err := in.ensurePartitions(ctx, preps, unique); err != nil {
		return nil, err
	}
	b := &batch{ctx: ctx, preps: preps, unique: unique, opts: opts, done: make(chan error, 1)}
	if err := in.queue.push(b); err != nil {
		return nil, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	select {
	case err = <-b.done:
	case <-ctx.Done():
		if in.queue.withdraw(b) {
			return nil, fmt.Errorf("ingest %d events: wait for a committer: %w", len(events), ctx.Err())
		}
		select {
		case err = <-b.done:
		default:
			return nil, fmt.Errorf("ingest %d events: stopped waiting for the group transaction (it may still commit): %w", len(events), ctx.Err())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	for i := range preps {
		switch preps[i].status {
		case Stored:
			res.Stored++
		case Late:
			res.Stored++
			res.Late = append(res.Late, i)
		case Duplicate:
			res.Duplicates = append(res.Duplicates, i)
		case Conflict:
			res.Conflicts = append(res.Conflicts, i)
		}
	}
	return res, nil
}

// Check returns the problems Ingest would report for the events (time bounds, meters and their
// values), skipping the indexes for which skip returns true (e.g. events that did not decode).
func (in *Ingester) Check(ctx context.Context, events []Event, skip func(i int) bool) []Problem {
	_, probs := in.check(ctx, events, skip)
	return probs
}

// prepare checks each event against the time bounds and its meters and computes its keys.
func (in *Ingester) prepare(ctx context.Context, events []Event) ([]prepared, error) {
	preps, probs := in.check(ctx, events, nil)
	if len(probs) > 0 {
		return nil, &InvalidError{Events: len(events), Problems: probs}
	}
	return preps, nil
}

// measureSlab is how many readings check allocates at once.
const measureSlab = 4096

func (in *Ingester) check(ctx context.Context, events []Event, skip func(i int) bool) ([]prepared, []Problem) {
	now := in.opts.Now()
	limit := now.Add(in.opts.MaxFutureSkew)
	preps := make([]prepared, len(events))
	var probs []Problem
	meters := in.meters.Load()
	var msc measureScratch
	var slab []measure // the batch's readings, handed out in slices of one event's meters
	var hb []byte
	for i := range events {
		if skip != nil && skip(i) {
			continue
		}
		e := &events[i]
		if e.Time.After(limit) {
			probs = append(probs, Problem{Index: i, Field: "time", Reason: fmt.Sprintf("is more than %s in the future", in.opts.MaxFutureSkew)})
		}
		if len(e.Data) > 0 {
			if reason := dataProblem(e.Data); reason != "" {
				probs = append(probs, Problem{Index: i, Field: "data", Reason: reason})
				continue
			}
		}
		ms := meters.ForType(e.Type)
		if len(ms) == 0 {
			meters = in.reloadForUnknownType(ctx, meters)
			ms = meters.ForType(e.Type)
		}
		if len(ms) == 0 {
			probs = append(probs, Problem{Index: i, Field: "type", Reason: fmt.Sprintf("no meter reads events of type %q", truncate(e.Type))})
			continue
		}
		if cap(slab)-len(slab) < len(ms) {
			slab = make([]measure, 0, max(measureSlab, len(ms)))
		}
		var mp []Problem
		out := slab[len(slab) : len(slab) : len(slab)+len(ms)]
		out, mp = measureEvent(i, e, ms, out, nil, &msc)
		slab = slab[:len(slab)+len(out)]
		preps[i].measures = out
		probs = append(probs, mp...)
		preps[i].ev = e
		preps[i].key, preps[i].hash, hb = e.hashes(hb)
	}
	return preps, probs
}

// reloadForUnknownType re-reads meters (at most once a second) when an event names an unknown type,
// so that meters created by another process become usable.
func (in *Ingester) reloadForUnknownType(ctx context.Context, cur *MeterSet) *MeterSet {
	in.reloadMu.Lock()
	due := in.opts.Now().Sub(in.lastReload) >= time.Second
	in.reloadMu.Unlock()
	if !due {
		return cur
	}
	if err := in.Reload(ctx); err != nil {
		in.opts.Logger.Warn("usage: reload meters", "err", err)
		return cur
	}
	return in.meters.Load()
}

// ensurePartitions creates the monthly event partitions the batch needs (outside the ingest
// transaction, so the DDL lock is short) and the following month's ahead of time.
func (in *Ingester) ensurePartitions(ctx context.Context, preps []prepared, unique []int) error {
	for _, i := range unique {
		t := preps[i].ev.Time
		m := t.Year()*12 + int(t.Month()) - 1
		if _, ok := in.partitions.Load(m); ok {
			continue
		}
		for _, at := range []time.Time{t, time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)} {
			if _, err := in.pool.Exec(ctx, `SELECT usage_ensure_partition($1)`, at); err != nil {
				return fmt.Errorf("create event partition for %s: %w", at.Format("2006-01"), err)
			}
		}
		in.partitions.Store(m, struct{}{})
	}
	return nil
}
