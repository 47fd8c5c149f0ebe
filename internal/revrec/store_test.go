package revrec

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
)

func upsellInput() Arrangement {
	a := arrangement(platform("12000.00"))
	a.Billings = []Billing{{ID: "inv-1", ObligationID: "platform", Date: day("2026-01-01"), Amount: d("12000.00")}}
	return a
}

func withUpsell(a Arrangement) Arrangement {
	seats := Obligation{ID: "seats", Product: "seats", Kind: KindSeats, Quantity: d("20"), Price: d("4800.00"),
		Start: day("2026-07-01"), End: day("2027-01-01")}
	a.Amendments = []Amendment{{ID: "upsell", Effective: day("2026-07-01"), Method: MethodProspective,
		Reason: "distinct seats below SSP", Obligations: []Obligation{platform("12000.00"), seats}}}
	a.Billings = append(a.Billings, Billing{ID: "inv-2", ObligationID: "seats", Date: day("2026-07-01"), Amount: d("4800.00")})
	return a
}

func save(t *testing.T, q db.Querier, a Arrangement, closed Month) (Run, bool, *Schedule, error) {
	t.Helper()
	s, err := Compute(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	h, err := InputHash(a, DefaultSSPTable())
	if err != nil {
		t.Fatal(err)
	}
	run, created, err := SaveSchedule(context.Background(), q, s, h, closed)
	return run, created, s, err
}

func sameLines(t *testing.T, got, want []Line) {
	t.Helper()
	key := func(l Line) string { return l.ObligationID + " " + l.Month.String() }
	w := map[string]Line{}
	for _, l := range want {
		w[key(l)] = l
	}
	if len(got) != len(want) {
		t.Fatalf("stored %d lines, want %d", len(got), len(want))
	}
	for _, g := range got {
		x, ok := w[key(g)]
		if !ok || g.CustomerID != x.CustomerID || g.EntityID != x.EntityID || g.Product != x.Product || g.Kind != x.Kind ||
			g.Currency != x.Currency || !g.Revenue.Equal(x.Revenue) || !g.CatchUp.Equal(x.CatchUp) || !g.Breakage.Equal(x.Breakage) ||
			!g.Billed.Equal(x.Billed) || !g.Deferred.Equal(x.Deferred) || !g.Unbilled.Equal(x.Unbilled) {
			t.Fatalf("stored %+v, want %+v", g, x)
		}
	}
}

func TestStoreSaveLoadAndRetry(t *testing.T) {
	ctx := context.Background()
	tdb := dbtest.New(t)
	run, created, s, err := save(t, tdb.Pool, upsellInput(), Month{})
	if err != nil || !created || run.Seq != 1 || run.ID != "revrec:a1:run:1" || run.LineCount != 12 {
		t.Fatalf("first save: %+v %v %v", run, created, err)
	}
	lines, err := LoadLines(ctx, tdb.Pool, LineFilter{ArrangementID: "a1"})
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, lines, s.Lines)

	// The "already done" retry: the same input stores nothing and returns the first run.
	again, created, _, err := save(t, tdb.Pool, upsellInput(), Month{})
	if err != nil || created || again.ID != run.ID {
		t.Fatalf("retry: %+v %v %v", again, created, err)
	}
	var runs int
	if err := tdb.Pool.QueryRow(ctx, `SELECT count(*) FROM revenue_recognition_runs`).Scan(&runs); err != nil || runs != 1 {
		t.Fatalf("runs = %d, %v", runs, err)
	}

	// An amendment with June closed: earlier months are unchanged, so it is stored as run 2.
	run2, created, s2, err := save(t, tdb.Pool, withUpsell(upsellInput()), MustMonth("2026-06"))
	if err != nil || !created || run2.Seq != 2 {
		t.Fatalf("amendment: %+v %v %v", run2, created, err)
	}
	lines, err = LoadLines(ctx, tdb.Pool, LineFilter{CustomerID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, lines, s2.Lines)
	latest, found, err := LatestRun(ctx, tdb.Pool, "a1")
	if err != nil || !found || latest.ID != run2.ID || latest.ClosedThrough != MustMonth("2026-06") ||
		len(latest.Versions) != 2 || latest.Versions[1].Method != MethodProspective || latest.Versions[1].Reason == "" {
		t.Fatalf("latest = %+v, %v, %v", latest, found, err)
	}
	if !latest.Versions[1].Allocated.Equal(d("10849.32")) {
		t.Fatalf("stored allocation = %s", latest.Versions[1].Allocated)
	}
	through, err := LoadLines(ctx, tdb.Pool, LineFilter{EntityID: "us", Through: MustMonth("2026-03")})
	if err != nil || len(through) != 6 { // two obligations x January-March
		t.Fatalf("through March: %d lines, %v", len(through), err)
	}

	// Going back to the original input is a new run again (not mistaken for run 1's retry), and the
	// seats rows it no longer has are removed.
	run3, created, s3, err := save(t, tdb.Pool, upsellInput(), Month{})
	if err != nil || !created || run3.Seq != 3 {
		t.Fatalf("revert: %+v %v %v", run3, created, err)
	}
	lines, _ = LoadLines(ctx, tdb.Pool, LineFilter{ArrangementID: "a1"})
	sameLines(t, lines, s3.Lines)

	// Runs are append-only.
	if _, err := tdb.Pool.Exec(ctx, `UPDATE revenue_recognition_runs SET line_count = 0`); err == nil {
		t.Fatal("update of a run: want refusal")
	}
}

func TestStoreRefusesChangeToClosedMonth(t *testing.T) {
	ctx := context.Background()
	tdb := dbtest.New(t)
	if _, _, _, err := save(t, tdb.Pool, upsellInput(), Month{}); err != nil {
		t.Fatal(err)
	}
	// A catch-up effective in March changes March, which is closed.
	a := upsellInput()
	a.Amendments = []Amendment{{ID: "price", Effective: day("2026-03-01"), Method: MethodCumulativeCatchUp,
		Obligations: []Obligation{platform("15000.00")}}}
	_, _, _, err := save(t, tdb.Pool, a, MustMonth("2026-03"))
	if !errors.Is(err, ErrClosedMonthChanged) {
		t.Fatalf("err = %v", err)
	}
	// Nothing was written: still one run, and March as before.
	latest, _, _ := LatestRun(ctx, tdb.Pool, "a1")
	if latest.Seq != 1 {
		t.Fatalf("latest seq = %d", latest.Seq)
	}
	// With only February closed, the same amendment is accepted.
	if _, created, _, err := save(t, tdb.Pool, a, MustMonth("2026-02")); err != nil || !created {
		t.Fatalf("February closed: %v %v", created, err)
	}
}

func TestStoreInsideTransaction(t *testing.T) {
	ctx := context.Background()
	tdb := dbtest.New(t)
	sentinel := errors.New("roll back")
	err := db.InTx(ctx, tdb.Pool, func(tx pgx.Tx) error {
		if _, created, _, err := save(t, tx, upsellInput(), Month{}); err != nil || !created {
			t.Fatalf("save in tx: %v %v", created, err)
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatal(err)
	}
	if _, found, err := LatestRun(ctx, tdb.Pool, "a1"); err != nil || found {
		t.Fatalf("rolled back run is visible: %v %v", found, err)
	}
}
