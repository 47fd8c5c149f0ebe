package usage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/usage"
)

var testMeters = []*usage.Meter{
	{Slug: "tokens", EventType: "llm.tokens", Aggregation: usage.Sum, ValueProperty: "$.tokens", GroupBy: map[string]string{"model": "$.model", "region": "$.region"}},
	{Slug: "requests", EventType: "llm.tokens", Aggregation: usage.Count},
	{Slug: "peak-gpus", EventType: "gpu.usage", Aggregation: usage.Max, ValueProperty: "$.gpus"},
	{Slug: "users", EventType: "api.call", Aggregation: usage.UniqueCount, ValueProperty: "$.user.id"},
	{Slug: "seats", EventType: "seats.snapshot", Aggregation: usage.Latest, ValueProperty: "$.seats"},
}

func newIngester(t testing.TB) (*usage.Ingester, *dbtest.DB) {
	t.Helper()
	d := dbtest.New(t)
	ctx := context.Background()
	for _, m := range testMeters {
		m := *m
		if _, err := usage.InsertMeter(ctx, d.Pool, &m); err != nil {
			t.Fatalf("insert meter %s: %v", m.Slug, err)
		}
	}
	in, err := usage.NewIngester(ctx, d.Pool, usage.IngesterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in, d
}

var t0 = time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC)

func ev(id, typ, subject string, at time.Time, data string) usage.Event {
	e := usage.Event{ID: id, Source: "test", SpecVersion: "1.0", Type: typ, Subject: subject, Time: at}
	if data != "" {
		e.Data = []byte(data)
	}
	return e
}

func tokens(id, subject string, at time.Time, n int, model string) usage.Event {
	return ev(id, "llm.tokens", subject, at, fmt.Sprintf(`{"tokens": %d, "model": %q, "region": "eu"}`, n, model))
}

func mustIngest(t *testing.T, in *usage.Ingester, evs []usage.Event) *usage.Result {
	t.Helper()
	res, err := in.Ingest(context.Background(), evs, usage.IngestOptions{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

func querySum(t *testing.T, in *usage.Ingester, meter, subject string, groupBy ...string) []usage.Row {
	t.Helper()
	rows, err := usage.Query(context.Background(), in.Pool(), in.Meters(), usage.QueryParams{
		Meter: meter, Subject: subject, From: t0.Add(-48 * time.Hour), To: t0.Add(48 * time.Hour), GroupBy: groupBy,
	})
	if err != nil {
		t.Fatalf("query %s: %v", meter, err)
	}
	return rows
}

func total(t *testing.T, in *usage.Ingester, meter, subject string) string {
	t.Helper()
	rows := querySum(t, in, meter, subject)
	if len(rows) == 0 {
		return "none"
	}
	if len(rows) != 1 {
		t.Fatalf("query %s: %d rows, want 1", meter, len(rows))
	}
	return rows[0].Value.String()
}

func count(t testing.TB, d *dbtest.DB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestIngestDuplicatesInsideAndAcrossBatches(t *testing.T) {
	in, d := newIngester(t)
	batch := []usage.Event{
		tokens("a", "cus_1", t0, 100, "gpt"),
		tokens("b", "cus_1", t0.Add(time.Minute), 50, "gpt"),
		tokens("a", "cus_1", t0, 100, "gpt"), // repeated inside the batch
	}
	res := mustIngest(t, in, batch)
	if res.Stored != 2 || !slices.Equal(res.Duplicates, []int{2}) || len(res.Conflicts) != 0 {
		t.Fatalf("first batch: %+v", res)
	}
	// The same batch again (a client retry): all duplicates, nothing counted twice.
	res = mustIngest(t, in, batch)
	if res.Stored != 0 || !slices.Equal(res.Duplicates, []int{0, 1, 2}) {
		t.Fatalf("retried batch: %+v", res)
	}
	// Whitespace in data does not make a different event.
	res = mustIngest(t, in, []usage.Event{ev("b", "llm.tokens", "cus_1", t0.Add(time.Minute), `{ "tokens":50,"model":"gpt",  "region":"eu" }`), tokens("c", "cus_1", t0, 1, "gpt")})
	if res.Stored != 1 || !slices.Equal(res.Duplicates, []int{0}) {
		t.Fatalf("third batch: %+v", res)
	}
	if got := total(t, in, "tokens", "cus_1"); got != "151" {
		t.Fatalf("tokens total %s, want 151", got)
	}
	if got := total(t, in, "requests", "cus_1"); got != "3" {
		t.Fatalf("requests total %s, want 3", got)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 3 {
		t.Fatalf("%d stored events, want 3", n)
	}
}

func TestIngestConflictingDuplicates(t *testing.T) {
	in, d := newIngester(t)
	mustIngest(t, in, []usage.Event{tokens("a", "cus_1", t0, 100, "gpt")})
	res := mustIngest(t, in, []usage.Event{
		tokens("a", "cus_1", t0, 999, "gpt"), // stored id, other content
		tokens("x", "cus_1", t0, 7, "gpt"),
		tokens("x", "cus_1", t0, 8, "gpt"), // repeated inside the batch with other content
	})
	if res.Stored != 1 || !slices.Equal(res.Conflicts, []int{0, 2}) || len(res.Duplicates) != 0 {
		t.Fatalf("result %+v", res)
	}
	if got := total(t, in, "tokens", "cus_1"); got != "107" {
		t.Fatalf("tokens total %s, want 107", got)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 2 {
		t.Fatalf("%d stored events, want 2", n)
	}
}

func TestIngestInvalidEventRejectsWholeBatch(t *testing.T) {
	in, d := newIngester(t)
	batch := make([]usage.Event, 1000)
	for i := range batch {
		batch[i] = tokens(fmt.Sprintf("e%d", i), "cus_1", t0, 1, "gpt")
	}
	batch[417] = ev("e417", "llm.tokens", "cus_1", t0, `{"tokens": "lots", "model": "gpt"}`)
	batch[900] = ev("e900", "no.such.type", "cus_1", t0, `{}`)
	batch[901] = ev("e901", "llm.tokens", "cus_1", t0, `{"model": {"name": "gpt"}}`)
	_, err := in.Ingest(context.Background(), batch, usage.IngestOptions{})
	var inv *usage.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v, want *InvalidError", err)
	}
	want := []usage.Problem{
		{Index: 417, Field: "data.tokens", Reason: `must be a number, got "lots"`},
		{Index: 900, Field: "type", Reason: `no meter reads events of type "no.such.type"`},
		{Index: 901, Field: "data.tokens", Reason: "is required by meter and must be a number"},
		{Index: 901, Field: "data.model", Reason: "must be a string, number or boolean, got an object"},
	}
	if !slices.Equal(inv.Problems, want) {
		t.Fatalf("problems\n got %+v\nwant %+v", inv.Problems, want)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_event_keys`); n != 0 {
		t.Fatalf("%d events stored from a refused batch", n)
	}
}

func TestIngestAggregations(t *testing.T) {
	in, d := newIngester(t)
	usage.SetSlotBase(in, 0)
	mustIngest(t, in, []usage.Event{
		ev("g1", "gpu.usage", "cus_1", t0, `{"gpus": 4}`),
		ev("g2", "gpu.usage", "cus_1", t0.Add(time.Hour), `{"gpus": "12.5"}`),
		ev("g3", "gpu.usage", "cus_1", t0.Add(2*time.Hour), `{"gpus": 3}`),
		ev("u1", "api.call", "cus_1", t0, `{"user": {"id": "alice"}}`),
		ev("u2", "api.call", "cus_1", t0.Add(time.Hour), `{"user": {"id": "alice"}}`),
		ev("u3", "api.call", "cus_1", t0.Add(2*time.Hour), `{"user": {"id": 42}}`),
		ev("s1", "seats.snapshot", "cus_1", t0.Add(3*time.Hour), `{"seats": 10}`),
		ev("s2", "seats.snapshot", "cus_1", t0.Add(time.Hour), `{"seats": 99}`),
	})
	// A later batch with an older LATEST reading does not replace the newer one; a newer one does.
	// It goes into other rollup slots (as another committer or process would write).
	usage.SetSlotBase(in, 32)
	mustIngest(t, in, []usage.Event{
		ev("s3", "seats.snapshot", "cus_1", t0.Add(2*time.Hour), `{"seats": 50}`),
		ev("g4", "gpu.usage", "cus_1", t0, `{"gpus": 12.25}`),
		ev("u4", "api.call", "cus_1", t0, `{"user": {"id": 42}}`),
	})
	for meter, want := range map[string]string{"peak-gpus": "12.5", "users": "2", "seats": "10"} {
		if got := total(t, in, meter, "cus_1"); got != want {
			t.Errorf("%s = %s, want %s", meter, got, want)
		}
	}
	// Successive batches wrote rollup rows of different slots; answers combine them.
	if n := count(t, d, `SELECT count(DISTINCT slot) FROM usage_rollups WHERE meter = 'seats'`); n < 2 {
		t.Fatalf("seats rollups in %d slot(s), want several", n)
	}
	mustIngest(t, in, []usage.Event{ev("s4", "seats.snapshot", "cus_1", t0.Add(4*time.Hour), `{"seats": 12}`)})
	if got := total(t, in, "seats", "cus_1"); got != "12" {
		t.Errorf("seats = %s, want 12", got)
	}
}

func TestIngestGroupByAndWindows(t *testing.T) {
	in, _ := newIngester(t)
	mustIngest(t, in, []usage.Event{
		tokens("1", "cus_1", t0, 10, "gpt"),
		tokens("2", "cus_1", t0.Add(90*time.Minute), 20, "gpt"),
		tokens("3", "cus_1", t0.Add(30*time.Minute), 5, "llama"),
		ev("4", "llm.tokens", "cus_1", t0, `{"tokens": 1}`), // no model: groups as ""
		tokens("5", "cus_2", t0, 1000, "gpt"),
	})
	rows := querySum(t, in, "tokens", "cus_1", "model")
	got := map[string]string{}
	for _, r := range rows {
		got[r.Groups["model"]] = r.Value.String()
	}
	want := map[string]string{"gpt": "30", "llama": "5", "": "1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("by model: %v, want %v", got, want)
	}
	hourly, err := usage.Query(context.Background(), in.Pool(), in.Meters(), usage.QueryParams{
		Meter: "tokens", Subject: "cus_1", From: t0, To: t0.Add(2 * time.Hour), Window: usage.WindowHour,
	})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, r := range hourly {
		parts = append(parts, r.WindowStart.Format("15:04")+"="+r.Value.String())
	}
	if s := strings.Join(parts, " "); s != "10:00=16 11:00=20" {
		t.Fatalf("hourly: %s", s)
	}
	// All subjects at once.
	all, err := usage.Query(context.Background(), in.Pool(), in.Meters(), usage.QueryParams{Meter: "tokens", From: t0, To: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Subject != "cus_1" || !all[1].Value.Equal(decimal.NewFromInt(1000)) {
		t.Fatalf("all subjects: %+v", all)
	}
}

func TestIngestConcurrentOverlappingBatches(t *testing.T) {
	in, d := newIngester(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]usage.Event, 0, 200)
			for i := range 200 {
				// Every worker sends the same 200 events, in a different order.
				j := (i + w*37) % 200
				batch = append(batch, tokens(fmt.Sprintf("e%d", j), fmt.Sprintf("cus_%d", j%5), t0.Add(time.Duration(j)*time.Minute), j, "gpt"))
			}
			if _, err := in.Ingest(context.Background(), batch, usage.IngestOptions{}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events`); n != 200 {
		t.Fatalf("%d events stored, want 200", n)
	}
	if n := count(t, d, `SELECT sum(sum)::int FROM usage_rollups WHERE meter = 'tokens'`); n != 199*200/2 {
		t.Fatalf("rollup sum %d, want %d", n, 199*200/2)
	}
}

func TestIngestAwkwardButValidData(t *testing.T) {
	in, d := newIngester(t)
	res := mustIngest(t, in, []usage.Event{
		ev("u1", "llm.tokens", "cus_ü", t0, `{"tokens": 1.5, "model": "gpt \ud83d\ude00 \"q\"", "region": "\u00e9u", "x": [1, {"y": "}"}]}`),
		ev("u2", "llm.tokens", "cus_ü", t0, `{"tokens": "2", "model": 4, "region": null}`),
	})
	if res.Stored != 2 {
		t.Fatalf("result %+v", res)
	}
	rows := querySum(t, in, "tokens", "cus_ü", "model", "region")
	got := map[string]string{}
	for _, r := range rows {
		got[r.Groups["model"]+"|"+r.Groups["region"]] = r.Value.String()
	}
	if got["gpt 😀 \"q\"|éu"] != "1.5" || got["4|"] != "2" || len(got) != 2 {
		t.Fatalf("groups %v", got)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events WHERE data->'x'->1->>'y' = '}'`); n != 1 {
		t.Fatalf("stored data does not round-trip")
	}
	for _, bad := range []string{`{"tokens": 1, "model": "\ud83d"}`, `{"tokens": 1, "model": "\ude00x"}`} {
		_, err := in.Ingest(context.Background(), []usage.Event{ev("bad", "llm.tokens", "cus_1", t0, bad)}, usage.IngestOptions{})
		var inv *usage.InvalidError
		if !errors.As(err, &inv) || inv.Problems[0].Field != "data" {
			t.Fatalf("Ingest of %s: %v, want a data problem", bad, err)
		}
		body := `[{"specversion":"1.0","id":"s","source":"s","type":"llm.tokens","subject":"c","time":"2026-10-05T10:00:00Z","data":` + bad + `}]`
		if _, err := usage.DecodeBatch([]byte(body)); err == nil || !strings.Contains(err.Error(), "surrogate") {
			t.Fatalf("decoder accepted %s: %v", bad, err)
		}
	}
}

func TestGroupValuesAreCanonical(t *testing.T) {
	in, d := newIngester(t)
	mustIngest(t, in, []usage.Event{
		ev("c1", "llm.tokens", "cus_1", t0, `{"tokens": 1, "model": "a<b\u2028\"c\""}`),
		ev("c2", "llm.tokens", "cus_1", t0, `{"tokens": 2, "model": "a\u003cb`+"\u2028"+`\"c\""}`),
	})
	// The same model written two ways is one rollup row.
	if n := count(t, d, `SELECT count(DISTINCT groups) FROM usage_rollups WHERE meter = 'tokens'`); n != 1 {
		t.Fatalf("%d distinct group texts, want 1", n)
	}
	rows := querySum(t, in, "tokens", "cus_1", "model")
	if len(rows) != 1 || rows[0].Groups["model"] != "a<b\u2028\"c\"" || rows[0].Value.String() != "3" {
		t.Fatalf("rows %+v", rows)
	}
}
