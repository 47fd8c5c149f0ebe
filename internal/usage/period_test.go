package usage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/usage"
)

func TestLateEventsBecomeAdjustments(t *testing.T) {
	in, d := newIngester(t)
	ctx := context.Background()
	octStart := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	novStart := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	policy := usage.LatePolicy{Grace: 48 * time.Hour}
	mustIngest(t, in, []usage.Event{tokens("on-time", "cus_1", t0, 100, "gpt")})

	closeOct := func(now time.Time) (usage.ClosedPeriod, error) {
		var p usage.ClosedPeriod
		err := db.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
			var err error
			p, err = usage.ClosePeriod(ctx, tx, policy, now, "cus_1", octStart, novStart, "inv_oct")
			return err
		})
		return p, err
	}
	if _, err := closeOct(novStart.Add(time.Hour)); !errors.Is(err, usage.ErrPeriodNotClosable) {
		t.Fatalf("close within grace: %v, want ErrPeriodNotClosable", err)
	}
	// Within the grace window the period is open: a late-arriving event counts in it.
	mustIngest(t, in, []usage.Event{tokens("in-grace", "cus_1", t0, 10, "gpt")})
	first, err := closeOct(novStart.Add(49 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	again, err := closeOct(novStart.Add(50 * time.Hour)) // retry: already done
	if err != nil || again != first {
		t.Fatalf("retried close: %+v, %v; want %+v", again, err, first)
	}
	if err := db.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
		_, err := usage.ClosePeriod(ctx, tx, policy, novStart.Add(50*time.Hour), "cus_1", octStart.Add(24*time.Hour), novStart, "inv_other")
		return err
	}); !errors.Is(err, usage.ErrPeriodConflict) {
		t.Fatalf("overlapping close: %v, want ErrPeriodConflict", err)
	}
	if closed, err := usage.IsClosed(ctx, d.Pool, "cus_1", t0); err != nil || !closed {
		t.Fatalf("IsClosed(oct) = %v, %v", closed, err)
	}
	if closed, err := usage.IsClosed(ctx, d.Pool, "cus_1", novStart); err != nil || closed {
		t.Fatalf("IsClosed(nov) = %v, %v", closed, err)
	}

	res := mustIngest(t, in, []usage.Event{
		tokens("late", "cus_1", t0.Add(time.Hour), 7, "gpt"),
		tokens("november", "cus_1", novStart.Add(time.Hour), 3, "gpt"),
		tokens("other-customer", "cus_2", t0, 5, "gpt"),
	})
	if res.Stored != 3 || !slices.Equal(res.Late, []int{0}) {
		t.Fatalf("result %+v", res)
	}
	// The invoiced period's total does not move; the late event waits as an adjustment.
	rows, err := usage.Query(ctx, d.Pool, in.Meters(), usage.QueryParams{Meter: "tokens", Subject: "cus_1", From: octStart, To: novStart})
	if err != nil || len(rows) != 1 || rows[0].Value.String() != "110" {
		t.Fatalf("october after close: %+v, %v", rows, err)
	}
	pending, err := usage.PendingAdjustments(ctx, d.Pool, "cus_1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range pending {
		got = append(got, a.Meter+"="+a.Value.String())
	}
	if !slices.Equal(got, []string{"requests=1", "tokens=7"}) || pending[1].Groups["model"] != "gpt" {
		t.Fatalf("pending adjustments %v (%+v)", got, pending)
	}
	if n := count(t, d, `SELECT count(*) FROM usage_events WHERE late`); n != 1 {
		t.Fatalf("%d events flagged late, want 1", n)
	}
	applied, err := usage.ApplyAdjustments(ctx, d.Pool, "cus_1", "inv_nov", novStart.Add(31*24*time.Hour))
	if err != nil || len(applied) != 2 {
		t.Fatalf("apply: %d, %v", len(applied), err)
	}
	retried, err := usage.ApplyAdjustments(ctx, d.Pool, "cus_1", "inv_nov", novStart.Add(32*24*time.Hour))
	if err != nil || len(retried) != 2 || retried[0].AppliedRef != "inv_nov" {
		t.Fatalf("apply retried: %+v, %v", retried, err)
	}
	if pending, _ := usage.PendingAdjustments(ctx, d.Pool, "cus_1"); len(pending) != 0 {
		t.Fatalf("still pending after apply: %+v", pending)
	}
	// The same late event sent again is a duplicate, not a second adjustment.
	res = mustIngest(t, in, []usage.Event{tokens("late", "cus_1", t0.Add(time.Hour), 7, "gpt")})
	if !slices.Equal(res.Duplicates, []int{0}) || count(t, d, `SELECT count(*) FROM usage_adjustments`) != 2 {
		t.Fatalf("late retry: %+v", res)
	}
}
