package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/dbtest"
)

// TestEventRowsMatchPgx writes the same events with the hand-built binary COPY stream and with
// pgx's CopyFrom into two tables shaped like usage_events and finds them equal, column by column.
func TestEventRowsMatchPgx(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, name := range []string{"mine", "theirs"} {
		if _, err := conn.Exec(ctx, `CREATE TEMP TABLE `+name+` (LIKE usage_events INCLUDING DEFAULTS)`); err != nil {
			t.Fatal(err)
		}
	}
	ny := time.FixedZone("NY", -5*3600)
	events := []Event{
		{ID: "a", Source: "s", Type: "t", Subject: "cus_1", Time: time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC), Data: json.RawMessage(`{"tokens":12}`)},
		{ID: "no-data", Source: "s", Type: "t", Subject: "cus_1", Time: time.Date(2026, 10, 5, 10, 0, 0, 123456789, time.UTC)},
		{ID: "empty-data", Source: "s", Type: "t", Subject: "cus_1", Time: time.Date(2026, 10, 5, 10, 0, 0, 999, ny), Data: json.RawMessage{}},
		{ID: "ünïcødé-✓-😀", Source: "Ωsource", Type: "typé", Subject: "客户", Time: time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
			Data: json.RawMessage(`{ "name": "Zoë \u00e9 😀", "nested": {"a": [1, 2.5e3, null, true]} }`)},
		{ID: "before-1970", Source: "s", Type: "t", Subject: "x", Time: time.Date(1969, 7, 20, 20, 17, 40, 500_001, time.UTC), Data: json.RawMessage(`[]`)},
		{ID: "far-past", Source: "s", Type: "t", Subject: "x", Time: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), Data: json.RawMessage(`"just a string"`)},
		{ID: "far-future", Source: "s", Type: "t", Subject: "x", Time: time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC), Data: json.RawMessage(`-0.5`)},
		{ID: "long", Source: string(bytes.Repeat([]byte("s"), 256)), Type: "t", Subject: "", Time: time.Unix(0, 0), Data: json.RawMessage(`{"big":"` + string(bytes.Repeat([]byte("x"), 70000)) + `"}`)},
	}
	b := appendCopyHeader(nil)
	var rows [][]any
	for i := range events {
		e := &events[i]
		late := i%2 == 1
		b = appendEventRow(b, e, e.Key(), late)
		var data any
		if e.Data != nil {
			data = json.RawMessage(e.Data)
		}
		if len(e.Data) == 0 {
			data = nil // an empty data is absent: NULL
		}
		rows = append(rows, []any{e.Time, [16]byte(e.Key()), e.Source, e.ID, e.Subject, e.Type, data, late})
	}
	b = appendCopyTrailer(b)
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(b), `COPY mine (time, key, source, id, subject, type, data, late) FROM STDIN (FORMAT binary)`)
	if err != nil {
		t.Fatal(err)
	}
	if tag.RowsAffected() != int64(len(events)) {
		t.Fatalf("copied %d rows, want %d", tag.RowsAffected(), len(events))
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"theirs"}, []string{"time", "key", "source", "id", "subject", "type", "data", "late"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	const cols = `time, key, source, id, subject, type, data::text, late`
	var diff int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM ((SELECT `+cols+` FROM mine EXCEPT SELECT `+cols+` FROM theirs)
		UNION ALL (SELECT `+cols+` FROM theirs EXCEPT SELECT `+cols+` FROM mine)) d`).Scan(&diff); err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Fatalf("%d rows differ between the hand-built COPY and pgx's", diff)
	}
	// Spot checks against literal values, independent of pgx.
	var got time.Time
	var nulls int
	var name string
	if err := conn.QueryRow(ctx, `SELECT time FROM mine WHERE id = 'far-past'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC); !got.Equal(want) {
		t.Fatalf("far-past time %s, want %s", got, want)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE data IS NULL), max(data->>'name') FROM mine`).Scan(&nulls, &name); err != nil {
		t.Fatal(err)
	}
	if nulls != 2 || name != "Zoë é 😀" {
		t.Fatalf("%d NULL data, name %q", nulls, name)
	}
}
