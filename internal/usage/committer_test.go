package usage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/usage"
)

// waitQueued waits until n batches wait for a committer.
func waitQueued(t *testing.T, in *usage.Ingester, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for usage.Queued(in) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches queued, want %d", usage.Queued(in), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// ingestGroup queues the batches in this order and lets one committer take them together; it
// returns each batch's result and error.
func ingestGroup(t *testing.T, in *usage.Ingester, batches [][]usage.Event, opts []usage.IngestOptions) ([]*usage.Result, []error) {
	t.Helper()
	usage.HoldCommits(in, len(batches))
	res, errs := make([]*usage.Result, len(batches)), make([]error, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		var o usage.IngestOptions
		if opts != nil {
			o = opts[i]
		}
		wg.Go(func() { res[i], errs[i] = in.Ingest(context.Background(), b, o) })
		if i < len(batches)-1 { // the last one completes the group: a committer takes it at once
			waitQueued(t, in, i+1)
		}
	}
	wg.Wait()
	return res, errs
}

// transactions counts the transactions that stored the events of the given ids.
func transactions(t *testing.T, d *dbtest.DB, ids ...string) int {
	t.Helper()
	return count(t, d, `SELECT count(DISTINCT k.xmin::text) FROM usage_events e JOIN usage_event_keys k USING (key) WHERE e.id = ANY($1)`, ids)
}

func TestGroupCommitDuplicatesAndConflictsAcrossBatches(t *testing.T) {
	in, d := newIngester(t)
	mustIngest(t, in, []usage.Event{tokens("s", "cus_1", t0, 1000, "gpt")})
	res, errs := ingestGroup(t, in, [][]usage.Event{
		{
			tokens("a", "cus_1", t0, 100, "gpt"),
			tokens("b", "cus_1", t0, 50, "gpt"),
			tokens("s", "cus_1", t0, 2000, "gpt"), // conflicts with the stored s
			tokens("x", "cus_2", t0, 1, "gpt"),
		},
		{
			tokens("a", "cus_1", t0, 100, "gpt"),  // duplicate of the first batch's a
			tokens("b", "cus_1", t0, 51, "gpt"),   // conflict with the first batch's b
			tokens("s", "cus_1", t0, 2000, "gpt"), // same as the first batch's s, but the stored s differs: conflict
			tokens("c", "cus_2", t0, 7, "gpt"),
		},
		{
			tokens("c", "cus_2", t0, 7, "gpt"),   // duplicate of the second batch's c
			tokens("a", "cus_1", t0, 999, "gpt"), // conflict with the first batch's a
			tokens("d", "cus_2", t0, 3, "llama"),
			tokens("d", "cus_2", t0, 3, "llama"),  // duplicate inside the batch
			tokens("s", "cus_1", t0, 1000, "gpt"), // the group's first s was a conflict; this one matches the stored s
		},
	}, nil)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	want := []usage.Result{
		{Events: 4, Stored: 3, Late: []int{}, Duplicates: []int{}, Conflicts: []int{2}},
		{Events: 4, Stored: 1, Late: []int{}, Duplicates: []int{0}, Conflicts: []int{1, 2}},
		{Events: 5, Stored: 1, Late: []int{}, Duplicates: []int{0, 3, 4}, Conflicts: []int{1}},
	}
	for i := range want {
		if fmt.Sprint(*res[i]) != fmt.Sprint(want[i]) {
			t.Errorf("batch %d: %+v, want %+v", i, *res[i], want[i])
		}
	}
	if n := transactions(t, d, "a", "b", "x", "c", "d"); n != 1 {
		t.Fatalf("the three batches were stored by %d transactions, want one group", n)
	}
	if got := total(t, in, "tokens", "cus_1"); got != "1150" {
		t.Errorf("cus_1 tokens %s, want 1150", got)
	}
	if got := total(t, in, "tokens", "cus_2"); got != "11" {
		t.Errorf("cus_2 tokens %s, want 11", got)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 6 {
		t.Errorf("%d events stored, want 6", n)
	}
}

func TestGroupCommitFailureStoresNothingOfTheGroup(t *testing.T) {
	in, d := newIngester(t)
	boom := errors.New("checkpoint refused")
	batches := [][]usage.Event{
		{tokens("a", "cus_1", t0, 1, "gpt"), tokens("b", "cus_1", t0, 2, "gpt")},
		{tokens("c", "cus_1", t0, 4, "gpt")},
		{tokens("d", "cus_2", t0, 8, "gpt"), ev("e", "api.call", "cus_2", t0, `{"user": {"id": "u"}}`)},
	}
	var hooks []string
	hook := func(name string, err error) usage.IngestOptions {
		return usage.IngestOptions{InTx: func(ctx context.Context, tx pgx.Tx) error {
			hooks = append(hooks, name) // the committer runs the hooks one after another
			return err
		}}
	}
	_, errs := ingestGroup(t, in, batches, []usage.IngestOptions{hook("first", nil), hook("second", boom), {}})
	for i, err := range errs {
		if !errors.Is(err, boom) {
			t.Errorf("batch %d: err %v, want the group's failure", i, err)
		}
	}
	if !slices.Equal(hooks, []string{"first", "second"}) {
		t.Errorf("hooks ran %v, want first then second", hooks)
	}
	for _, table := range []string{"usage_event_keys", "usage_events", "usage_rollups", "usage_rollup_distinct"} {
		if n := count(t, d, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%d rows in %s after a failed group", n, table)
		}
	}
	// Resent, each batch is stored whole.
	for i, b := range batches {
		if res := mustIngest(t, in, b); res.Stored != len(b) {
			t.Errorf("resent batch %d: %+v", i, res)
		}
	}
	if got := total(t, in, "tokens", "cus_1"); got != "7" {
		t.Errorf("tokens %s, want 7", got)
	}
}

func TestIngestCancelledWhileQueuedIsNotStored(t *testing.T) {
	in, d := newIngester(t)
	usage.HoldCommits(in, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := in.Ingest(ctx, []usage.Event{tokens("gone", "cus_1", t0, 5, "gpt")}, usage.IngestOptions{})
		done <- err
	}()
	waitQueued(t, in, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := usage.Queued(in); n != 0 {
		t.Fatalf("%d batches still queued", n)
	}
	usage.HoldCommits(in, 0)
	if res := mustIngest(t, in, []usage.Event{tokens("next", "cus_1", t0, 1, "gpt")}); res.Stored != 1 {
		t.Fatalf("next batch: %+v", res)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events WHERE id = 'gone'`); n != 0 {
		t.Fatalf("the cancelled batch was stored")
	}
	if got := total(t, in, "tokens", "cus_1"); got != "1" {
		t.Fatalf("tokens %s, want 1", got)
	}
}

func TestIngestCallerGoneAfterTakeStillCommits(t *testing.T) {
	in, d := newIngester(t)
	inTx, release := make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := in.Ingest(ctx, []usage.Event{tokens("late-caller", "cus_1", t0, 5, "gpt")}, usage.IngestOptions{
			InTx: func(ctx context.Context, tx pgx.Tx) error {
				close(inTx)
				<-release
				return ctx.Err() // the caller's cancellation does not reach the transaction
			},
		})
		done <- err
	}()
	<-inTx
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	close(release)
	in.Close() // waits for the committer
	if n := count(t, d, `SELECT count(*) FROM usage_events WHERE id = 'late-caller'`); n != 1 {
		t.Fatalf("%d events stored, want the batch committed", n)
	}
}

func TestGroupCommitRollupsAreExact(t *testing.T) {
	in, d := newIngester(t)
	const batches, size = 6, 400
	var group [][]usage.Event
	wantTokens := map[string]int{}
	wantPeak := map[string]int{}
	wantUsers := map[string]map[int]bool{}
	latest := map[string]time.Time{}
	seen := map[string]bool{}
	for k := range batches {
		var b []usage.Event
		for j := range size {
			n := (k*size + j) % (batches * size * 3 / 4) // a quarter of each batch repeats earlier ids
			id := fmt.Sprintf("e%d", n)
			subject := fmt.Sprintf("cus_%d", n%7)
			at := t0.Add(time.Duration(n%180) * time.Minute)
			var e usage.Event
			switch n % 4 {
			case 0, 1:
				e = tokens(id, subject, at, n%97, []string{"gpt", "llama"}[n%2])
			case 2:
				e = ev(id, "gpu.usage", subject, at, fmt.Sprintf(`{"gpus": %d}`, n%13))
			case 3:
				if n%8 == 3 {
					e = ev(id, "api.call", subject, at, fmt.Sprintf(`{"user": {"id": "u%d"}}`, n%5))
				} else {
					e = ev(id, "seats.snapshot", subject, at, fmt.Sprintf(`{"seats": %d}`, n))
				}
			}
			b = append(b, e)
			if seen[id] {
				continue
			}
			seen[id] = true
			switch n % 4 {
			case 0, 1:
				wantTokens[subject] += n % 97
			case 2:
				wantPeak[subject] = max(wantPeak[subject], n%13)
			case 3:
				if n%8 == 3 {
					if wantUsers[subject] == nil {
						wantUsers[subject] = map[int]bool{}
					}
					wantUsers[subject][n%5] = true
				} else if at.After(latest[subject]) {
					latest[subject] = at
				}
			}
		}
		group = append(group, b)
	}
	res, errs := ingestGroup(t, in, group, nil)
	stored := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if len(res[i].Conflicts) > 0 {
			t.Fatalf("batch %d: conflicts %v", i, res[i].Conflicts)
		}
		stored += res[i].Stored
	}
	if stored != len(seen) || count(t, d, `SELECT count(*) FROM usage_events`) != len(seen) {
		t.Fatalf("stored %d, want %d distinct events", stored, len(seen))
	}
	if n := count(t, d, `SELECT count(DISTINCT xmin::text) FROM usage_event_keys`); n != 1 {
		t.Fatalf("%d transactions, want one group", n)
	}
	// One rollup row per meter, subject, hour and group values: aggregated across the batches.
	if n := count(t, d, `SELECT count(*) FROM (SELECT 1 FROM usage_rollups GROUP BY meter, subject, hour, groups HAVING count(*) > 1) x`); n != 0 {
		t.Fatalf("%d rollups written in more than one row", n)
	}
	for s := range 7 {
		subject := fmt.Sprintf("cus_%d", s)
		check := func(meter string, want int) {
			t.Helper()
			if got := total(t, in, meter, subject); got != fmt.Sprint(want) {
				t.Errorf("%s of %s = %s, want %d", meter, subject, got, want)
			}
		}
		check("tokens", wantTokens[subject])
		check("peak-gpus", wantPeak[subject])
		check("users", len(wantUsers[subject]))
		if seatsAt := latest[subject]; !seatsAt.IsZero() {
			// The latest reading at the latest time (several events may share it: the greatest key wins).
			var want int
			if err := d.Pool.QueryRow(context.Background(), `SELECT (data->>'seats')::int FROM usage_events
				WHERE subject = $1 AND type = 'seats.snapshot' AND time = $2 ORDER BY key DESC LIMIT 1`, subject, seatsAt).Scan(&want); err != nil {
				t.Fatal(err)
			}
			check("seats", want)
		}
	}
}

func TestIngestAgainChangesNothing(t *testing.T) {
	in, d := newIngester(t)
	batch := []usage.Event{
		tokens("a", "cus_1", t0, 10, "gpt"),
		ev("g", "gpu.usage", "cus_1", t0, `{"gpus": 3}`),
		ev("u", "api.call", "cus_1", t0, `{"user": {"id": "x"}}`),
		ev("s", "seats.snapshot", "cus_1", t0, `{"seats": 4}`),
	}
	mustIngest(t, in, batch)
	snapshot := func() string {
		t.Helper()
		var s string
		if err := d.Pool.QueryRow(context.Background(), `SELECT string_agg(r::text, ';' ORDER BY r::text) FROM (
			SELECT meter, subject, hour, groups, count, sum, max, latest, latest_time, latest_key FROM usage_rollups
			UNION ALL SELECT meter, subject, hour, groups, 0, 0, NULL, NULL, NULL, NULL FROM usage_rollup_distinct) r`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	all := []int{0, 1, 2, 3}
	// The client did not see the answer and sends the batch again, alone and then twice in one group.
	if res := mustIngest(t, in, batch); res.Stored != 0 || !slices.Equal(res.Duplicates, all) {
		t.Fatalf("again: %+v", res)
	}
	res, errs := ingestGroup(t, in, [][]usage.Event{batch, batch}, nil)
	for i := range res {
		if errs[i] != nil || res[i].Stored != 0 || !slices.Equal(res[i].Duplicates, all) {
			t.Fatalf("again in a group, batch %d: %+v %v", i, res[i], errs[i])
		}
	}
	if after := snapshot(); after != before {
		t.Fatalf("rollups changed:\n%s\n%s", before, after)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 4 {
		t.Fatalf("%d events, want 4", n)
	}
}

func TestGroupCommitRespectsTheEventCap(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	for _, m := range testMeters {
		if _, err := usage.InsertMeter(ctx, d.Pool, m); err != nil {
			t.Fatal(err)
		}
	}
	in, err := usage.NewIngester(ctx, d.Pool, usage.IngesterOptions{MaxGroupEvents: 5, Committers: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	batch := func(prefix string, n int) []usage.Event {
		var b []usage.Event
		for i := range n {
			b = append(b, tokens(fmt.Sprintf("%s%d", prefix, i), "cus_1", t0, 1, "gpt"))
		}
		return b
	}
	// 3+2 fit in one group, the next 3 do not; a batch larger than the cap goes alone.
	_, errs := ingestGroup(t, in, [][]usage.Event{batch("a", 3), batch("b", 2), batch("c", 3), batch("d", 7)}, nil)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if n := transactions(t, d, "a0", "b0"); n != 1 {
		t.Errorf("a and b in %d transactions, want 1", n)
	}
	if n := transactions(t, d, "a0", "b0", "c0", "d0"); n != 3 {
		t.Errorf("%d transactions, want 3", n)
	}
}

func TestClosedIngesterRefusesBatches(t *testing.T) {
	in, d := newIngester(t)
	usage.HoldCommits(in, 5)
	done := make(chan error, 1)
	go func() {
		_, err := in.Ingest(context.Background(), []usage.Event{tokens("q", "cus_1", t0, 1, "gpt")}, usage.IngestOptions{})
		done <- err
	}()
	waitQueued(t, in, 1)
	in.Close() // stores what is queued
	if err := <-done; err != nil {
		t.Fatalf("queued batch: %v", err)
	}
	if _, err := in.Ingest(context.Background(), []usage.Event{tokens("r", "cus_1", t0, 1, "gpt")}, usage.IngestOptions{}); !errors.Is(err, usage.ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestGroupCommitFlagsLateEvents(t *testing.T) {
	in, d := newIngester(t)
	ctx := context.Background()
	octStart, novStart := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if err := db.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
		_, err := usage.ClosePeriod(ctx, tx, usage.LatePolicy{}, novStart, "cus_1", octStart, novStart, "inv_oct")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res, errs := ingestGroup(t, in, [][]usage.Event{
		{tokens("l1", "cus_1", t0, 5, "gpt"), tokens("n1", "cus_1", novStart, 1, "gpt")},
		{tokens("l1", "cus_1", t0, 5, "gpt"), tokens("l2", "cus_1", t0, 6, "gpt"), tokens("o1", "cus_2", t0, 2, "gpt")},
	}, nil)
	want := []usage.Result{
		{Events: 2, Stored: 2, Late: []int{0}, Duplicates: []int{}, Conflicts: []int{}},
		{Events: 3, Stored: 2, Late: []int{1}, Duplicates: []int{0}, Conflicts: []int{}},
	}
	for i := range want {
		if errs[i] != nil || fmt.Sprint(*res[i]) != fmt.Sprint(want[i]) {
			t.Fatalf("batch %d: %+v %v, want %+v", i, res[i], errs[i], want[i])
		}
	}
	adj, err := usage.PendingAdjustments(ctx, d.Pool, "cus_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(adj) != 4 { // l1 and l2, each read by tokens and requests
		t.Fatalf("%d adjustments, want 4: %+v", len(adj), adj)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events WHERE late`); n != 2 {
		t.Fatalf("%d events flagged late, want 2", n)
	}
	if got := total(t, in, "tokens", "cus_1"); got != "none" { // October is closed: only November's event, outside the query range
		t.Fatalf("cus_1 tokens %s", got)
	}
	if got := total(t, in, "tokens", "cus_2"); got != "2" {
		t.Fatalf("cus_2 tokens %s, want 2", got)
	}
}
