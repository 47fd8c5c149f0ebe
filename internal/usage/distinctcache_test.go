package usage

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/dbtest"
)

func TestDistinctCacheRemembersOnlyCommittedRows(t *testing.T) {
	var c distinctCache
	a := distinctRow{meter: "users", subject: "c1", groups: "{}", value: "u1", hour: 3600, slot: 1}
	b := a
	b.value = "u2"
	c.sent(a)
	c.rolledBack()
	c.committed()
	if c.has(a) {
		t.Fatal("a rolled back row is remembered")
	}
	c.sent(a)
	c.sent(b)
	c.committed()
	if !c.has(a) || !c.has(b) || len(c.pending) != 0 {
		t.Fatal("committed rows are not remembered")
	}
	other := b
	other.slot = 2
	if c.has(other) {
		t.Fatal("a row of another slot is remembered")
	}
	for i := range maxDistinctCache + 10 {
		r := a
		r.value = fmt.Sprint(i)
		c.sent(r)
	}
	c.committed()
	if len(c.rows) > maxDistinctCache {
		t.Fatalf("cache holds %d rows", len(c.rows))
	}
}

// TestDistinctValuesSurviveRollbacks ingests UNIQUE_COUNT values across groups, a group that
// rolls back and a fresh ingester (an empty cache), and finds every value stored once.
func TestDistinctValuesSurviveRollbacks(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	if _, err := InsertMeter(ctx, d.Pool, &Meter{Slug: "users", EventType: "api.call", Aggregation: UniqueCount, ValueProperty: "$.user"}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Hour)
	n := 0
	call := func(user string) Event {
		n++
		return Event{ID: fmt.Sprint("e", n), Source: "t", SpecVersion: "1.0", Type: "api.call", Subject: "c1", Time: at,
			Data: []byte(fmt.Sprintf(`{"user":%q}`, user))}
	}
	values := func() map[string]int {
		rows, err := d.Pool.Query(ctx, `SELECT value, count(*)::int FROM usage_rollup_distinct GROUP BY value`)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for rows.Next() {
			var v string
			var k int
			if err := rows.Scan(&v, &k); err != nil {
				t.Fatal(err)
			}
			got[v] = k
		}
		return got
	}
	in, err := NewIngester(ctx, d.Pool, IngesterOptions{Committers: 1})
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(in *Ingester, opts IngestOptions, users ...string) error {
		var evs []Event
		for _, u := range users {
			evs = append(evs, call(u))
		}
		_, err := in.Ingest(ctx, evs, opts)
		return err
	}
	if err := ingest(in, IngestOptions{}, "u1", "u2"); err != nil {
		t.Fatal(err)
	}
	if err := ingest(in, IngestOptions{}, "u1", "u3"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	fail := IngestOptions{InTx: func(context.Context, pgx.Tx) error { return boom }}
	if err := ingest(in, fail, "u4", "u1"); !errors.Is(err, boom) {
		t.Fatalf("failing hook: %v", err)
	}
	if got := values(); len(got) != 3 || got["u4"] != 0 {
		t.Fatalf("after a rollback: %v", got)
	}
	if err := ingest(in, IngestOptions{}, "u4", "u2"); err != nil {
		t.Fatal(err)
	}
	in.Close()
	again, err := NewIngester(ctx, d.Pool, IngesterOptions{Committers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	SetSlotBase(again, int(in.slotBase.Load()))
	if err := ingest(again, IngestOptions{}, "u1", "u5"); err != nil {
		t.Fatal(err)
	}
	got := values()
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		if got[u] != 1 {
			t.Fatalf("value %s stored %d times: %v", u, got[u], got)
		}
	}
}
