package ledger_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
	"github.com/revhub/revhub/internal/ledger"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func setup(t *testing.T) (*dbtest.DB, *ledger.Chart) {
	t.Helper()
	d := dbtest.New(t)
	ch := ledger.DefaultChart()
	if err := ledger.SyncChart(context.Background(), d.Pool, ch); err != nil {
		t.Fatal(err)
	}
	return d, ch
}

func dbtestNew(tb testing.TB) *pgxpool.Pool { return dbtest.New(tb).Pool }

func sale(key string, date time.Time, amount string) ledger.Entry {
	return ledger.Entry{Key: key, Entity: "us", Date: date, Memo: "test", Postings: []ledger.Posting{
		{Account: "1100", Side: ledger.Debit, Amount: dec(amount), Currency: "USD", Dimensions: ledger.Dimensions{Customer: "c1"}},
		{Account: "2400", Side: ledger.Credit, Amount: dec(amount), Currency: "USD", Dimensions: ledger.Dimensions{Customer: "c1", Product: "platform"}},
	}}
}

func TestPostIsIdempotent(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	e := sale("invoice:inv_1:finalized", ledger.Date(2026, 11, 3), "100.00")
	first, err := ledger.Post(ctx, d.Pool, ch, e)
	if err != nil || !first.Created {
		t.Fatalf("first post: created=%v err=%v", first.Created, err)
	}
	again, err := ledger.Post(ctx, d.Pool, ch, e) // the "already done" retry
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again.Created || again.Entry.Key != e.Key || len(again.Entry.Postings) != 2 || !again.Entry.Postings[0].Amount.Equal(dec("100")) {
		t.Fatalf("retry returned %+v", again)
	}
	var n int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_postings WHERE entry_key = $1`, e.Key).Scan(&n); err != nil || n != 2 {
		t.Fatalf("postings stored: %d %v", n, err)
	}
	changed := sale(e.Key, e.Date, "100.01")
	if _, err := ledger.Post(ctx, d.Pool, ch, changed); !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("same key, other content: want ErrConflict, got %v", err)
	}
}

func TestPostInsideTransactionAndConcurrentRetries(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	e := sale("payment:pay_1:captured", ledger.Date(2026, 11, 4), "42.50")
	errs := make(chan error, 8)
	created := make(chan bool, 8)
	for range 8 {
		go func() {
			err := db.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
				r, err := ledger.Post(ctx, tx, ch, e)
				created <- r.Created
				return err
			})
			errs <- err
		}()
	}
	nCreated := 0
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent post: %v", err)
		}
		if <-created {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Fatalf("%d posts report creating the entry, want 1", nCreated)
	}
}

func TestValidationReportsEveryProblem(t *testing.T) {
	_, err := ledger.Post(context.Background(), nil, ledger.DefaultChart(), ledger.Entry{
		Key: "x", Date: ledger.Date(2026, 1, 1), Postings: []ledger.Posting{
			{Account: "9999", Side: ledger.Debit, Amount: dec("1.005"), Currency: "USD"},
			{Account: "2400", Side: "sideways", Amount: dec("-1"), Currency: "XXX"},
		}})
	var inv *ledger.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("want *InvalidError, got %v", err)
	}
	want := []string{"entity", "postings[0].account", "postings[0].amount", "postings[1].side", "postings[1].currency", "postings[1].amount"}
	got := map[string]bool{}
	for _, p := range inv.Problems {
		got[p.Field] = true
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("no problem reported for %s in %v", f, inv)
		}
	}
}

func TestDatabaseRefusesUnbalancedEntry(t *testing.T) {
	ctx := context.Background()
	d, _ := setup(t)
	err := db.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_entries (key, entity, entry_date, period, content_hash)
			VALUES ('bad', 'us', '2026-11-01', '2026-11', '\x00')`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO ledger_postings (entry_key, line, account, amount, currency)
			VALUES ('bad', 0, '1100', 100, 'USD'), ('bad', 1, '2400', -99.99, 'USD'), ('bad', 2, '2400', 5, 'EUR'), ('bad', 3, '1100', -5, 'EUR')`)
		return err
	})
	if err == nil || db.PgCode(err) != "23514" || !strings.Contains(err.Error(), "unbalanced in USD") {
		t.Fatalf("unbalanced entry: want check violation at commit, got %v", err)
	}
	// An entry without postings is refused too.
	_, err = d.Pool.Exec(ctx, `INSERT INTO ledger_entries (key, entity, entry_date, period, content_hash)
		VALUES ('empty', 'us', '2026-11-01', '2026-11', '\x00')`)
	if db.PgCode(err) != "23514" {
		t.Fatalf("entry without postings: got %v", err)
	}
	var n int
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("entries stored after refusals: %d %v", n, err)
	}
}

func TestDatabaseRefusesChangesToPostedEntries(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	e := sale("invoice:inv_2:finalized", ledger.Date(2026, 11, 5), "10.00")
	if _, err := ledger.Post(ctx, d.Pool, ch, e); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE ledger_postings SET amount = amount * 2 WHERE entry_key = 'invoice:inv_2:finalized'`,
		`DELETE FROM ledger_postings WHERE entry_key = 'invoice:inv_2:finalized'`,
		`UPDATE ledger_entries SET memo = 'edited' WHERE key = 'invoice:inv_2:finalized'`,
		`DELETE FROM ledger_entries WHERE key = 'invoice:inv_2:finalized'`,
	} {
		if _, err := d.Pool.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: want refusal, got %v", stmt, err)
		}
	}
	got, err := ledger.GetEntry(ctx, d.Pool, e.Key)
	if err != nil || got.Memo != "test" || !got.Postings[0].Amount.Equal(dec("10")) {
		t.Fatalf("entry changed: %+v %v", got, err)
	}
}

func TestClosedPeriod(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	posted := sale("invoice:inv_3:finalized", ledger.Date(2026, 10, 30), "7.00")
	if _, err := ledger.Post(ctx, d.Pool, ch, posted); err != nil {
		t.Fatal(err)
	}
	for range 2 { // closing twice is a no-op
		if err := ledger.ClosePeriod(ctx, d.Pool, "us", "2026-10", "controller@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if err := ledger.ClosePeriod(ctx, d.Pool, "us", "2026-11", "controller@example.com"); err != nil {
		t.Fatal(err)
	}
	late := sale("payment:pay_9:captured", ledger.Date(2026, 10, 31), "7.00")
	if _, err := ledger.Post(ctx, d.Pool, ch, late); !errors.Is(err, ledger.ErrPeriodClosed) {
		t.Fatalf("post into closed period: want ErrPeriodClosed, got %v", err)
	}
	// PostgreSQL itself refuses, whatever the Go code does.
	_, err := d.Pool.Exec(ctx, `INSERT INTO ledger_entries (key, entity, entry_date, period, content_hash)
		VALUES ('raw', 'us', '2026-10-15', '2026-10', '\x00')`)
	if err == nil || !strings.Contains(err.Error(), "is closed") {
		t.Fatalf("raw insert into closed period: %v", err)
	}
	// Another entity's October is still open.
	other := sale("invoice:inv_4:finalized", ledger.Date(2026, 10, 31), "1.00")
	other.Entity = "eu"
	if _, err := ledger.Post(ctx, d.Pool, ch, other); err != nil {
		t.Fatalf("other entity: %v", err)
	}
	// A retry of an entry posted before the close is still a no-op.
	if r, err := ledger.Post(ctx, d.Pool, ch, posted); err != nil || r.Created {
		t.Fatalf("retry after close: created=%v err=%v", r.Created, err)
	}
	// The late effect goes to December (October and November closed) with a reference.
	r, err := ledger.PostLate(ctx, d.Pool, ch, late)
	if err != nil || !r.Created {
		t.Fatalf("post late: %v", err)
	}
	if r.Entry.Period() != "2026-12" || r.Entry.OriginalPeriod != "2026-10" || !r.Entry.Date.Equal(ledger.Date(2026, 12, 1)) {
		t.Fatalf("late entry routed to %s (original %q, date %s)", r.Entry.Period(), r.Entry.OriginalPeriod, r.Entry.Date)
	}
	again, err := ledger.PostLate(ctx, d.Pool, ch, late)
	if err != nil || again.Created || again.Entry.Period() != "2026-12" {
		t.Fatalf("post late retry: created=%v period=%s err=%v", again.Created, again.Entry.Period(), err)
	}
	// A closed period cannot be reopened.
	if _, err := d.Pool.Exec(ctx, `UPDATE ledger_periods SET status = 'open', closed_at = NULL WHERE entity = 'us' AND period = '2026-10'`); err == nil {
		t.Fatal("reopening a closed period was allowed")
	}
	ps, err := ledger.Periods(ctx, d.Pool, "us")
	if err != nil || len(ps) != 3 || ps[0].Status != ledger.PeriodClosed || ps[2].Status != ledger.PeriodOpen {
		t.Fatalf("periods: %+v %v", ps, err)
	}
}

func TestReverse(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	e := sale("invoice:inv_5:finalized", ledger.Date(2026, 11, 10), "250.00")
	if _, err := ledger.Post(ctx, d.Pool, ch, e); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Reverse(ctx, d.Pool, e.Key, ledger.Date(2026, 11, 12), ""); err == nil {
		t.Fatal("reversal without a reason was accepted")
	}
	r, err := ledger.Reverse(ctx, d.Pool, e.Key, ledger.Date(2026, 11, 12), "invoice voided")
	if err != nil || !r.Created || r.Entry.Key != "reversal:"+e.Key || r.Entry.Reverses != e.Key {
		t.Fatalf("reverse: %+v %v", r, err)
	}
	if r.Entry.Postings[0].Side != ledger.Credit || r.Entry.Postings[0].Account != "1100" {
		t.Fatalf("reversal postings not swapped: %+v", r.Entry.Postings)
	}
	again, err := ledger.Reverse(ctx, d.Pool, e.Key, ledger.Date(2026, 11, 12), "invoice voided")
	if err != nil || again.Created {
		t.Fatalf("reverse retry: created=%v err=%v", again.Created, err)
	}
	bs, err := ledger.Balances(ctx, d.Pool, ledger.BalanceQuery{Entity: "us"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if !b.Net().IsZero() {
			t.Errorf("account %s nets %s after reversal", b.Account, b.Net())
		}
	}
	if _, err := ledger.Reverse(ctx, d.Pool, "invoice:nope:finalized", ledger.Date(2026, 11, 12), "x"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("reverse unknown: %v", err)
	}
}

func TestTrialBalanceAndERPRecords(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	for _, e := range []ledger.Entry{
		sale("invoice:a:finalized", ledger.Date(2026, 10, 5), "100.00"),
		sale("invoice:b:finalized", ledger.Date(2026, 11, 5), "50.00"),
		sale("invoice:c:finalized", ledger.Date(2026, 12, 5), "25.00"),
	} {
		if _, err := ledger.Post(ctx, d.Pool, ch, e); err != nil {
			t.Fatal(err)
		}
	}
	tb, err := ledger.GetTrialBalance(ctx, d.Pool, "us", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Accounts) != 2 || !tb.Totals["USD"].Equal(dec("150")) || !tb.Accounts[0].Net().Equal(dec("150")) || tb.Accounts[0].Account != "1100" {
		t.Fatalf("trial balance: %+v", tb)
	}
	un, err := ledger.Unposted(ctx, d.Pool, "netsuite", ledger.BalanceQuery{}, 10)
	if err != nil || len(un) != 3 || un[0].Key != "invoice:a:finalized" {
		t.Fatalf("unposted: %d %v", len(un), err)
	}
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for range 2 { // the retry of a recorded posting is a no-op
		if err := ledger.MarkPosted(ctx, d.Pool, "netsuite", []string{"invoice:a:finalized", "invoice:b:finalized"}, "RH-x", "101", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := ledger.MarkPosted(ctx, d.Pool, "netsuite", []string{"invoice:a:finalized"}, "RH-other", "", at); !errors.Is(err, ledger.ErrConflict) {
		t.Fatalf("other external id: want ErrConflict, got %v", err)
	}
	un, err = ledger.Unposted(ctx, d.Pool, "netsuite", ledger.BalanceQuery{}, 10)
	if err != nil || len(un) != 1 || un[0].Key != "invoice:c:finalized" {
		t.Fatalf("unposted after marking: %+v %v", un, err)
	}
	ps, err := ledger.ERPPostings(ctx, d.Pool, "netsuite", ledger.BalanceQuery{Entity: "us"})
	if err != nil || len(ps) != 2 || ps[0].ExternalID != "RH-x" || ps[0].InternalID != "101" {
		t.Fatalf("erp postings: %+v %v", ps, err)
	}
}

func TestBuiltEntriesPostAndList(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	party := ledger.Party{Entity: "us", Customer: "cus_1", Contract: "ctr_1"}
	inv, err := ledger.InvoiceFinalized(ch, ledger.Invoice{ID: "inv_9", Party: party, Date: ledger.Date(2026, 11, 2), Currency: "EUR",
		Lines: []ledger.InvoiceLine{{Product: "platform", Amount: dec("1200.00"), Treatment: ledger.BilledInAdvance}}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ledger.RevenueRecognized(ch, ledger.Recognition{Obligation: "obl_9", Month: "2026-11", Party: party, Product: "platform",
		Currency: "EUR", Amount: dec("100.00"), From: ledger.FromDeferred})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []ledger.Entry{inv, rec, inv, rec} { // the second round is the "already done" retry
		if _, err := ledger.Post(ctx, d.Pool, ch, e); err != nil {
			t.Fatal(err)
		}
	}
	es, err := ledger.Entries(ctx, d.Pool, ledger.BalanceQuery{Entity: "us", FromPeriod: "2026-11", ToPeriod: "2026-11"})
	if err != nil || len(es) != 2 || es[0].Key != "invoice:inv_9:finalized" || es[1].Key != "revrec:obl_9:2026-11" ||
		string(es[1].ContentHash()) != string(rec.ContentHash()) {
		t.Fatalf("entries: %+v %v", es, err)
	}
	bs, err := ledger.Balances(ctx, d.Pool, ledger.BalanceQuery{Entity: "us", Account: "2400"})
	if err != nil || len(bs) != 1 || !bs[0].Net().Equal(dec("-1100")) {
		t.Fatalf("deferred revenue balance: %+v %v", bs, err)
	}
}

func TestRefusalInsideTransactionKeepsItUsable(t *testing.T) {
	ctx := context.Background()
	d, ch := setup(t)
	if err := ledger.ClosePeriod(ctx, d.Pool, "us", "2026-10", "controller"); err != nil {
		t.Fatal(err)
	}
	late := sale("payment:late:captured", ledger.Date(2026, 10, 20), "3.00")
	err := db.InTx(ctx, d.Pool, func(tx pgx.Tx) error {
		if _, err := ledger.Post(ctx, tx, ch, late); !errors.Is(err, ledger.ErrPeriodClosed) {
			t.Errorf("post into closed period in a transaction: %v", err)
		}
		r, err := ledger.PostLate(ctx, tx, ch, late)
		if err == nil && r.Entry.Period() != "2026-11" {
			t.Errorf("late entry in %s", r.Entry.Period())
		}
		return err
	})
	if err != nil {
		t.Fatalf("transaction after a refusal: %v", err)
	}
	if _, err := ledger.GetEntry(ctx, d.Pool, late.Key); err != nil {
		t.Fatalf("late entry not committed: %v", err)
	}
}
