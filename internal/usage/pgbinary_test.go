package usage

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/revhub/revhub/internal/dbtest"
)

// TestBinaryParamsRoundTrip sends hand-encoded arrays of every element type the ingest path
// uses, NULLs and empty arrays included, and reads back what PostgreSQL made of them as text.
func TestBinaryParamsRoundTrip(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	pc := conn.Conn().PgConn()
	if _, err := pc.Exec(ctx, `SET TIME ZONE 'UTC'`).ReadAll(); err != nil {
		t.Fatal(err)
	}
	one := func(sql string, param []byte, oid uint32) []string {
		t.Helper()
		res := pc.ExecParams(ctx, sql, [][]byte{param}, []uint32{oid}, []int16{1}, nil).Read()
		if res.Err != nil {
			t.Fatalf("%s: %v", sql, res.Err)
		}
		var out []string
		for _, row := range res.Rows {
			if row[0] == nil {
				out = append(out, "NULL")
			} else {
				out = append(out, string(row[0]))
			}
		}
		return out
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: got %d values, want %d", name, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: #%d is %q, want %q", name, i, got[i], want[i])
			}
		}
	}
	var a pgArray
	a.reset(oidText)
	for _, s := range []string{"", "plain", "ünïcødé ✓ 😀", `{"model":"gpt","region":"eu"}`, "quote\" back\\slash"} {
		a.text(s)
	}
	a.null()
	check("text", one(`SELECT x FROM unnest($1::text[]) x`, a.bytes(), oidTextArray),
		"", "plain", "ünïcødé ✓ 😀", `{"model":"gpt","region":"eu"}`, "quote\" back\\slash", "NULL")

	a.reset(oidText)
	check("empty", one(`SELECT cardinality($1::text[])::text`, a.bytes(), oidTextArray), "0")

	a.reset(oidInt8)
	a.int8(0)
	a.int8(-1)
	a.int8(1 << 62)
	check("int8", one(`SELECT x::text FROM unnest($1::int8[]) x`, a.bytes(), oidInt8Array), "0", "-1", "4611686018427387904")

	a.reset(oidUUID)
	a.uuid([16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 1, 2, 3, 4, 5, 6, 0xff})
	a.null()
	check("uuid", one(`SELECT x::text FROM unnest($1::uuid[]) x`, a.bytes(), oidUUIDArray), "01234567-89ab-cdef-0001-0203040506ff", "NULL")

	times := []time.Time{
		time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), // sub-microseconds truncated
		time.Date(1969, 7, 20, 20, 17, 40, 1500, time.FixedZone("X", 3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
	}
	a.reset(oidTimestamptz)
	for _, tm := range times {
		a.timestamptz(pgMicros(tm))
	}
	check("timestamptz", one(`SELECT x::text FROM unnest($1::timestamptz[]) x`, a.bytes(), oidTimestamptzArray),
		"2026-10-05 10:00:00+00", "2000-01-01 00:00:00+00", "1999-12-31 23:59:59.999999+00", "1969-07-20 19:17:40.000001+00",
		"0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00")
	for _, tm := range times {
		if got, want := timeOfMicros(appendInt64(nil, pgMicros(tm))), tm.Truncate(time.Microsecond); !got.Equal(want) {
			t.Fatalf("timeOfMicros(pgMicros(%s)) = %s", tm, got)
		}
	}
	if got := hourUnix(time.Date(1969, 12, 31, 23, 30, 0, 0, time.UTC)); got != -3600 {
		t.Fatalf("hourUnix before 1970: %d", got)
	}
	if got, want := hourUnix(times[0].Add(59*time.Minute)), times[0].Unix(); got != want {
		t.Fatalf("hourUnix: %d, want %d", got, want)
	}

	// Numerics: the binary encoding must store exactly what the text the rollups used to send
	// (decimal.String) stores, display scale included.
	r := rand.New(rand.NewPCG(3, 4))
	var want []string
	a.reset(oidNumeric)
	texts := pgArray{}
	texts.reset(oidText)
	fixed := []amount{{}, amountInt(1), amountInt(-1), amountInt(10000), amountInt(9999), {coef: 5, scale: 3}, {coef: -150, scale: 2},
		{coef: 123456789012345678, scale: 18}, {coef: 1e17, scale: 18}, {coef: 10001, scale: 4}, {coef: 100000000, scale: 0}}
	for i := range 3000 {
		var v amount
		if i < len(fixed) {
			v = fixed[i]
		} else {
			v, _ = randomAmount(r)
		}
		a.numeric(v)
		texts.text(v.String())
		want = append(want, v.String())
	}
	gotBinary := one(`SELECT x::text FROM unnest($1::numeric[]) x`, a.bytes(), oidNumericArray)
	gotText := one(`SELECT x::numeric::text FROM unnest($1::text[]) x`, texts.bytes(), oidTextArray)
	check("numeric as text", gotText, want...)
	check("numeric", gotBinary, want...)
	res := pc.ExecParams(ctx, `SELECT count(*)::text FROM unnest($1::numeric[], $2::text[]::numeric[]) u(a, b) WHERE numeric_send(a) <> numeric_send(b)`,
		[][]byte{a.bytes(), texts.bytes()}, []uint32{oidNumericArray, oidTextArray}, []int16{1, 1}, nil).Read()
	if res.Err != nil || string(res.Rows[0][0]) != "0" {
		t.Fatalf("binary numerics differ from the parsed text ones: %v %q", res.Err, res.Rows)
	}
}
