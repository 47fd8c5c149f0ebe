package invoice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
)

var t0 = time.Date(2026, 2, 1, 9, 30, 0, 0, time.UTC)

func mustDraft(t *testing.T, q db.Querier, d Draft) Invoice {
	t.Helper()
	inv, err := CreateDraft(context.Background(), q, d)
	if err != nil {
		t.Fatalf("CreateDraft(%s): %v", d.Key, err)
	}
	return inv
}

func mustFinalize(t *testing.T, q db.Querier, id string) Invoice {
	t.Helper()
	inv, err := Finalize(context.Background(), q, id, t0)
	if err != nil {
		t.Fatalf("Finalize(%s): %v", id, err)
	}
	return inv
}

func oneOff(key, entity, amount string) Draft {
	return Draft{Key: key, Kind: KindOneOff, CustomerID: "cus_1", BillingEntity: entity, Currency: "USD",
		PaymentTermsDays: 14, Lines: []Line{{Product: "Onboarding", Description: "Onboarding workshop",
			Quantity: dec("1"), UnitPrice: price(amount), Amount: dec(amount)}}}
}

func TestCreateDraftIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	d := sampleDraft()
	first := mustDraft(t, pool, d)
	if first.Status != StatusDraft || first.Number != "" || len(first.Lines) != 3 || !first.Total.Equal(dec("915.24")) ||
		!first.AmountDue.Equal(dec("915.24")) || first.Currency != "USD" || first.PeriodEnd.String() != "2026-02-01" {
		t.Fatalf("draft = %+v", first)
	}
	if string(first.Lines[1].Explanation) != `{"model": "tiered"}` || !first.Lines[1].UnitPrice.Equal(dec("0.001234567891")) {
		t.Fatalf("line 2 = %+v (%s)", first.Lines[1], first.Lines[1].Explanation)
	}
	if l0, l2 := first.Lines[0], first.Lines[2]; l0.Kind != "recurring" || l0.PeriodEnd.String() != "2026-02-01" ||
		l2.Kind != LineKindDiscount || l2.UnitPrice != nil || !first.Discount.Equal(dec("100")) {
		t.Fatalf("lines = %+v", first.Lines)
	}
	// Already done: the same key and content returns the same draft, without a second row.
	again, err := CreateDraft(ctx, pool, sampleDraft())
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry: %v, id %s want %s", err, again.ID, first.ID)
	}
	// The same key after finalization still returns it (an activity retried late).
	mustFinalize(t, pool, first.ID)
	late, err := CreateDraft(ctx, pool, sampleDraft())
	if err != nil || late.ID != first.ID || late.Status != StatusFinalized {
		t.Fatalf("late retry: %v, %+v", err, late)
	}
	// The same key with different content is a conflict naming the key.
	changed := sampleDraft()
	changed.Lines[0].Amount = dec("999.00")
	_, err = CreateDraft(ctx, pool, changed)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Key != d.Key || !strings.Contains(err.Error(), d.Key) {
		t.Fatalf("conflict: got %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM invoices`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("invoices = %d, %v; want 1", n, err)
	}
	// Invalid content is refused before the database is touched.
	bad := sampleDraft()
	bad.Currency = "ZZZ"
	var ve *ValidationError
	if _, err := CreateDraft(ctx, pool, bad); !errors.As(err, &ve) {
		t.Fatalf("invalid: got %v", err)
	}
}

func TestCreateDraftConcurrentSameKey(t *testing.T) {
	pool := dbtest.New(t).Pool
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Go(func() {
			inv, err := CreateDraft(context.Background(), pool, sampleDraft())
			ids[i], errs[i] = inv.ID, err
		})
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("worker %d: id %s err %v; want id %s", i, ids[i], errs[i], ids[0])
		}
	}
}

func TestFinalizeNumbersDatesAndRetry(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	a := mustDraft(t, pool, sampleDraft())
	fa := mustFinalize(t, pool, a.ID)
	if fa.Status != StatusFinalized || fa.Number != "INV-ACMEUS-000001" || fa.IssueDate.String() != "2026-02-01" ||
		fa.DueDate.String() != "2026-03-03" || fa.FinalizedAt == nil || !fa.FinalizedAt.Equal(t0) || fa.PaidAt != nil {
		t.Fatalf("finalized = %+v", fa)
	}
	if fa.PaymentReference != "RF60INVACMEUS000001" || !CheckPaymentReference(fa.PaymentReference) {
		t.Fatalf("payment reference = %s", fa.PaymentReference)
	}
	// Already done: finalizing again (even later) changes nothing and takes no number.
	again, err := Finalize(ctx, pool, a.ID, t0.Add(48*time.Hour))
	if err != nil || again.Number != fa.Number || again.IssueDate != fa.IssueDate || !again.FinalizedAt.Equal(*fa.FinalizedAt) {
		t.Fatalf("retry: %v, %+v", err, again)
	}
	b := mustFinalize(t, pool, mustDraft(t, pool, oneOff("oneoff:1", "acme-us", "250.00")).ID)
	if b.Number != "INV-ACMEUS-000002" || b.DueDate.String() != "2026-02-15" || b.Kind != KindOneOff {
		t.Fatalf("second invoice = %s due %s", b.Number, b.DueDate)
	}
	c := mustFinalize(t, pool, mustDraft(t, pool, oneOff("oneoff:2", "acme-eu", "250.00")).ID)
	if c.Number != "INV-ACMEEU-000001" {
		t.Fatalf("other entity's first number = %s", c.Number)
	}
	if _, err := Finalize(ctx, pool, "inv_missing", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestFinalizeZeroAmountIsPaid(t *testing.T) {
	pool := dbtest.New(t).Pool
	d := oneOff("zero:1", "acme-us", "0")
	d.Lines[0].Description = "No usage this period"
	inv := mustFinalize(t, pool, mustDraft(t, pool, d).ID)
	if inv.Status != StatusPaid || inv.Number != "INV-ACMEUS-000001" || inv.PaidAt == nil || !inv.AmountDue.IsZero() {
		t.Fatalf("zero invoice = %+v", inv)
	}
	again := mustFinalize(t, pool, inv.ID)
	if again.Status != StatusPaid || again.Number != inv.Number {
		t.Fatalf("retry = %+v", again)
	}
}

func TestFinalizeRolledBackLeavesNoGap(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	a := mustDraft(t, pool, oneOff("k:a", "acme-us", "10.00"))
	b := mustDraft(t, pool, oneOff("k:b", "acme-us", "20.00"))
	boom := errors.New("delivery failed")
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		inv, err := Finalize(ctx, tx, a.ID, t0)
		if err != nil || inv.Number != "INV-ACMEUS-000001" {
			t.Fatalf("finalize in tx: %v, %s", err, inv.Number)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got := mustFinalize(t, pool, b.ID).Number; got != "INV-ACMEUS-000001" {
		t.Fatalf("after rollback number = %s, want INV-ACMEUS-000001", got)
	}
	if got := mustFinalize(t, pool, a.ID).Number; got != "INV-ACMEUS-000002" {
		t.Fatalf("number = %s, want INV-ACMEUS-000002", got)
	}
}

func TestFinalizeConcurrentGapFree(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	const n = 50
	ids := make([]string, n)
	for i := range ids {
		entity := "acme-us"
		if i%5 == 0 {
			entity = "acme-eu" // a second series interleaved with the first
		}
		ids[i] = mustDraft(t, pool, oneOff(fmt.Sprintf("c:%d", i), entity, "1.00")).ID
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for _, id := range ids {
		for range 2 { // every invoice finalized twice at once: the retry must not take a number
			wg.Go(func() {
				if _, err := Finalize(ctx, pool, id, t0); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT billing_entity, number FROM invoices ORDER BY number`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for rows.Next() {
		var e, num string
		if err := rows.Scan(&e, &num); err != nil {
			t.Fatal(err)
		}
		got[e] = append(got[e], num)
	}
	for entity, count := range map[string]int{"acme-us": 40, "acme-eu": 10} {
		var want []string
		for i := 1; i <= count; i++ {
			want = append(want, FormatNumber(NumberPrefix(entity, "invoice"), int64(i)))
		}
		if !slices.Equal(got[entity], want) {
			t.Errorf("%s numbers = %v, want %v", entity, got[entity], want)
		}
	}
}

func TestFinalizedInvoiceImmutableInDatabase(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	draft := mustDraft(t, pool, sampleDraft())
	// A draft may still be changed by SQL (the store never does, but the guard allows it).
	if _, err := pool.Exec(ctx, `UPDATE invoices SET memo = 'note' WHERE id = $1`, draft.ID); err != nil {
		t.Fatalf("draft update refused: %v", err)
	}
	inv := mustFinalize(t, pool, draft.ID)
	refused := []string{
		`UPDATE invoices SET total = total + 1, subtotal = subtotal + 1 WHERE id = $1`,
		`UPDATE invoices SET number = 'INV-X-1' WHERE id = $1`,
		`UPDATE invoices SET due_date = due_date + 30 WHERE id = $1`,
		`UPDATE invoices SET memo = 'changed' WHERE id = $1`,
		`UPDATE invoices SET status = 'draft' WHERE id = $1`,
		`UPDATE invoices SET amount_paid = 10, status = 'void' WHERE id = $1`,
		`UPDATE invoices SET amount_paid = 10, status = 'partially_paid' WHERE id = $1`, // no payment recorded
		`UPDATE invoices SET amount_credited = total, status = 'paid' WHERE id = $1`,    // no credit note
		`UPDATE invoices SET status = 'paid' WHERE id = $1`,                             // money still due
		`DELETE FROM invoices WHERE id = $1`,
		`UPDATE invoice_lines SET amount = 1 WHERE invoice_id = $1`,
		`UPDATE invoice_lines SET description = 'x' WHERE invoice_id = $1`,
		`DELETE FROM invoice_lines WHERE invoice_id = $1`,
		`INSERT INTO invoice_lines (invoice_id, line_no, product, description, quantity, unit_price, amount)
			VALUES ($1, 9, 'p', 'd', 1, 1, 1)`,
	}
	for _, sql := range refused {
		// P0001 is the guard trigger, 23514 a check constraint.
		if _, err := pool.Exec(ctx, sql, inv.ID); db.PgCode(err) != "P0001" && db.PgCode(err) != "23514" {
			t.Errorf("%s: got %v, want refusal", sql, err)
		}
	}
	after, err := Get(ctx, pool, inv.ID)
	if err != nil || !after.Total.Equal(inv.Total) || len(after.Lines) != 3 || after.Memo != "note" {
		t.Fatalf("invoice changed: %v %+v", err, after)
	}
	// Finalizing a draft whose lines do not add up to its total is refused by the database.
	other := mustDraft(t, pool, oneOff("k:sum", "acme-us", "5.00"))
	if _, err := pool.Exec(ctx, `UPDATE invoices SET total = 6, subtotal = 6 WHERE id = $1`, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := Finalize(ctx, pool, other.ID, t0); db.PgCode(err) != "P0001" || !strings.Contains(err.Error(), "lines sum to 5 but total is 6") {
		t.Fatalf("finalize with bad total: %v", err)
	}
}

func TestRecordPayment(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	inv := mustFinalize(t, pool, mustDraft(t, pool, sampleDraft()).ID) // total 915.24
	p1 := Payment{Key: "payment:stripe:pi_1", InvoiceID: inv.ID, Amount: dec("500.00"), ReceivedAt: t0.Add(24 * time.Hour), Method: "card"}
	got, err := RecordPayment(ctx, pool, p1)
	if err != nil || got.Status != StatusPartiallyPaid || !got.AmountPaid.Equal(dec("500")) || !got.AmountDue.Equal(dec("415.24")) || got.PaidAt != nil {
		t.Fatalf("partial: %v %+v", err, got)
	}
	// Already done: the same payment again changes nothing.
	got, err = RecordPayment(ctx, pool, p1)
	if err != nil || !got.AmountPaid.Equal(dec("500")) || got.Status != StatusPartiallyPaid {
		t.Fatalf("retry: %v %+v", err, got)
	}
	// The same key with another amount is a conflict.
	p1b := p1
	p1b.Amount = dec("400.00")
	var ce *ConflictError
	if _, err := RecordPayment(ctx, pool, p1b); !errors.As(err, &ce) || ce.Key != p1.Key {
		t.Fatalf("conflict: %v", err)
	}
	// More than is due is refused, naming the field.
	var re *RuleError
	over := Payment{Key: "payment:bank:tx9", InvoiceID: inv.ID, Amount: dec("415.25"), ReceivedAt: t0}
	if _, err := RecordPayment(ctx, pool, over); !errors.As(err, &re) || re.Field != "amount" {
		t.Fatalf("overpayment: %v", err)
	}
	unrounded := Payment{Key: "payment:bank:tx8", InvoiceID: inv.ID, Amount: dec("1.001"), ReceivedAt: t0}
	if _, err := RecordPayment(ctx, pool, unrounded); !errors.As(err, &re) || re.Field != "amount" {
		t.Fatalf("unrounded: %v", err)
	}
	p2 := Payment{Key: "payment:bank:tx10", InvoiceID: inv.ID, Amount: dec("415.24"), ReceivedAt: t0.Add(72 * time.Hour), Method: "bank_transfer"}
	got, err = RecordPayment(ctx, pool, p2)
	if err != nil || got.Status != StatusPaid || !got.AmountDue.IsZero() || got.PaidAt == nil || !got.PaidAt.Equal(p2.ReceivedAt) {
		t.Fatalf("settling: %v %+v", err, got)
	}
	// A retry of the first payment after the invoice is paid is still "already done", not an error.
	if got, err = RecordPayment(ctx, pool, p1); err != nil || got.Status != StatusPaid {
		t.Fatalf("late retry: %v %+v", err, got)
	}
	var te *TransitionError
	if _, err := RecordPayment(ctx, pool, Payment{Key: "payment:x", InvoiceID: inv.ID, Amount: dec("1"), ReceivedAt: t0}); !errors.As(err, &te) {
		t.Fatalf("payment on paid: %v", err)
	}
	draft := mustDraft(t, pool, oneOff("k:d", "acme-us", "5.00"))
	if _, err := RecordPayment(ctx, pool, Payment{Key: "payment:y", InvoiceID: draft.ID, Amount: dec("1"), ReceivedAt: t0}); err == nil ||
		err.Error() != "invoice: cannot pay: status is draft" {
		t.Fatalf("payment on draft: %v", err)
	}
	var ve *ValidationError
	if _, err := RecordPayment(ctx, pool, Payment{}); !errors.As(err, &ve) || len(ve.Problems) != 4 {
		t.Fatalf("empty payment: %v", err)
	}
}

func TestVoidAndUncollectible(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	a := mustFinalize(t, pool, mustDraft(t, pool, oneOff("k:a", "acme-us", "100.00")).ID)
	if _, err := Void(ctx, pool, a.ID, " ", t0); err == nil || !strings.Contains(err.Error(), "reason: is required") {
		t.Fatalf("void without reason: %v", err)
	}
	v, err := Void(ctx, pool, a.ID, "billed the wrong customer", t0)
	if err != nil || v.Status != StatusVoid || v.Number != a.Number || v.VoidedAt == nil || v.VoidReason != "billed the wrong customer" {
		t.Fatalf("void: %v %+v", err, v)
	}
	if again, err := Void(ctx, pool, a.ID, "other reason", t0.Add(time.Hour)); err != nil || again.VoidReason != "billed the wrong customer" {
		t.Fatalf("void retry: %v %+v", err, again)
	}
	if _, err := Finalize(ctx, pool, mustDraft(t, pool, oneOff("k:void-draft", "acme-us", "1.00")).ID, t0); err != nil {
		t.Fatal(err)
	}
	d := mustDraft(t, pool, oneOff("k:d", "acme-us", "1.00"))
	if v, err := Void(ctx, pool, d.ID, "duplicate", t0); err != nil || v.Status != StatusVoid || v.Number != "" {
		t.Fatalf("void draft: %v %+v", err, v)
	}
	if _, err := Finalize(ctx, pool, d.ID, t0); err == nil || err.Error() != "invoice: cannot finalize: status is void" {
		t.Fatalf("finalize void draft: %v", err)
	}

	b := mustFinalize(t, pool, mustDraft(t, pool, oneOff("k:b", "acme-us", "100.00")).ID)
	if _, err := RecordPayment(ctx, pool, Payment{Key: "p:b1", InvoiceID: b.ID, Amount: dec("30"), ReceivedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := Void(ctx, pool, b.ID, "mistake", t0); err == nil || err.Error() != "invoice: cannot void: status is partially_paid" {
		t.Fatalf("void partially paid: %v", err)
	}
	u, err := MarkUncollectible(ctx, pool, b.ID, t0)
	if err != nil || u.Status != StatusUncollectible || u.UncollectibleAt == nil {
		t.Fatalf("uncollectible: %v %+v", err, u)
	}
	if again, err := MarkUncollectible(ctx, pool, b.ID, t0.Add(time.Hour)); err != nil || !again.UncollectibleAt.Equal(*u.UncollectibleAt) {
		t.Fatalf("uncollectible retry: %v %+v", err, again)
	}
	// A late payment recovers the written-off invoice.
	paid, err := RecordPayment(ctx, pool, Payment{Key: "p:b2", InvoiceID: b.ID, Amount: dec("70"), ReceivedAt: t0})
	if err != nil || paid.Status != StatusPaid {
		t.Fatalf("recovery: %v %+v", err, paid)
	}
	if _, err := MarkUncollectible(ctx, pool, b.ID, t0); err == nil || err.Error() != "invoice: cannot mark uncollectible: status is paid" {
		t.Fatalf("uncollectible on paid: %v", err)
	}
}

// TestFinalizeWithPreparesBeforeNumbering: prepare sees the dated but unnumbered invoice (and the
// numbered one on a retry); a failing prepare takes no number; what FinalizeWith returns is what
// is stored.
func TestFinalizeWithPreparesBeforeNumbering(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	a := mustDraft(t, pool, sampleDraft())
	boom := errors.New("ledger refused")
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := FinalizeWith(ctx, tx, a.ID, t0, func(inv Invoice) error { return boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing prepare: %v", err)
	}
	var seen []Invoice
	var got []Invoice
	for range 2 {
		err = db.InTx(ctx, pool, func(tx pgx.Tx) error {
			inv, err := FinalizeWith(ctx, tx, a.ID, t0, func(inv Invoice) error { seen = append(seen, inv); return nil })
			got = append(got, inv)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 2 || seen[0].Number != "" || seen[0].IssueDate.String() != "2026-02-01" || seen[1].Number != "INV-ACMEUS-000001" {
		t.Fatalf("prepare saw %+v", seen)
	}
	stored, err := Get(ctx, pool, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(stored)
	for i, g := range got {
		if b, _ := json.Marshal(g); string(b) != string(want) {
			t.Fatalf("call %d returned %s\nstored        %s", i+1, b, want)
		}
	}
}

func TestGetHeadIsGetWithoutLines(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	inv := mustFinalize(t, pool, mustDraft(t, pool, sampleDraft()).ID)
	full, err := Get(ctx, pool, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	head, err := GetHead(ctx, pool, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Lines) != 3 || head.Lines != nil {
		t.Fatalf("lines: Get %d, GetHead %d", len(full.Lines), len(head.Lines))
	}
	full.Lines = nil
	if fmt.Sprintf("%+v", head) != fmt.Sprintf("%+v", full) {
		t.Fatalf("GetHead = %+v\nGet     = %+v", head, full)
	}
	if _, err := GetHead(ctx, pool, "inv_missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v, want ErrNotFound", err)
	}
}
