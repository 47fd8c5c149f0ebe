package invoice

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/revhub/revhub/internal/db"
	"github.com/revhub/revhub/internal/dbtest"
)

func finalizedSample() Invoice {
	d := sampleDraft().Normalize()
	tot := ComputeTotals(d.Lines)
	return Invoice{ID: "inv_1", Number: "INV-ACMEUS-000001", Status: StatusFinalized, Currency: "USD", Lines: d.Lines,
		Subtotal: tot.Subtotal, Discount: tot.Discount, Total: tot.Total, AmountPaid: decimal.Zero,
		AmountCredited: decimal.Zero, AmountDue: tot.Total}
}

func TestPlanCreditNote(t *testing.T) {
	inv := finalizedSample()
	req := func(lines ...CreditLineRequest) CreditNoteRequest {
		return CreditNoteRequest{Key: "k", InvoiceID: inv.ID, Reason: "r", IssueDate: date("2026-02-10"), Lines: lines}
	}
	lines, total, err := PlanCreditNote(inv, nil, req(CreditLineRequest{InvoiceLineNo: 2, Amount: dec("5.24")},
		CreditLineRequest{InvoiceLineNo: 1, Amount: dec("100"), Description: "Outage credit"}))
	if err != nil || !total.Equal(dec("105.24")) || len(lines) != 2 || lines[0].Description != "Credit: API calls above 10,000" ||
		lines[1].Description != "Outage credit" || lines[1].No != 2 || lines[1].InvoiceLineNo != 1 {
		t.Fatalf("per line: %v %s %+v", err, total, lines)
	}
	// Full credit after earlier partial credits takes what is left of every line, discounts included.
	inv.AmountCredited = dec("105.24")
	lines, total, err = PlanCreditNote(inv, map[int]decimal.Decimal{1: dec("100"), 2: dec("5.24")}, CreditNoteRequest{Full: true})
	if err != nil || !total.Equal(dec("810")) || len(lines) != 3 || !lines[0].Amount.Equal(dec("900")) || !lines[2].Amount.Equal(dec("-100")) {
		t.Fatalf("full: %v %s %+v", err, total, lines)
	}
	// Every bad line is reported at once.
	_, _, err = PlanCreditNote(inv, map[int]decimal.Decimal{1: dec("100"), 2: dec("5.24")}, req(
		CreditLineRequest{InvoiceLineNo: 9, Amount: dec("1")},
		CreditLineRequest{InvoiceLineNo: 3, Amount: dec("1")},
		CreditLineRequest{InvoiceLineNo: 2, Amount: dec("10.01")},
		CreditLineRequest{InvoiceLineNo: 1, Amount: dec("0.001")},
		CreditLineRequest{InvoiceLineNo: 1, Amount: dec("500")},
		CreditLineRequest{InvoiceLineNo: 1, Amount: dec("400.01")},
	))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want ValidationError, got %v", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		fields = append(fields, p.Field)
	}
	if want := []string{"lines[0].invoice_line_no", "lines[1].invoice_line_no", "lines[2].amount", "lines[3].amount", "lines[5].amount"}; !slices.Equal(fields, want) {
		t.Fatalf("problems %v, want fields %v", err, want)
	}
	if !strings.Contains(err.Error(), "lines[5].amount: 900.01 exceeds what is left creditable on line 1: 900 of 1000") {
		t.Fatalf("message: %v", err)
	}
	// Per-line credits within each line can still exceed the invoice (discounts lower it).
	fresh := finalizedSample()
	_, _, err = PlanCreditNote(fresh, nil, req(CreditLineRequest{InvoiceLineNo: 1, Amount: dec("1000")}, CreditLineRequest{InvoiceLineNo: 2, Amount: dec("15.24")}))
	if err == nil || !strings.Contains(err.Error(), "lines: the credit 1015.24 exceeds what is left creditable on invoice INV-ACMEUS-000001: 915.24") {
		t.Fatalf("over invoice: %v", err)
	}
	for _, st := range []Status{StatusDraft, StatusVoid} {
		fresh.Status = st
		var te *TransitionError
		if _, _, err := PlanCreditNote(fresh, nil, CreditNoteRequest{Full: true}); !errors.As(err, &te) {
			t.Errorf("credit on %s: %v", st, err)
		}
	}
}

func TestCreditNoteRequestValidate(t *testing.T) {
	err := CreditNoteRequest{Full: true, Lines: []CreditLineRequest{{InvoiceLineNo: 1, Amount: dec("-1")}}}.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 6 {
		t.Fatalf("got %v", err)
	}
	if err := (CreditNoteRequest{Key: "k", InvoiceID: "i", Reason: "r", IssueDate: date("2026-01-01")}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "lines: at least one line is required unless full is true") {
		t.Fatalf("no lines: %v", err)
	}
}

func TestIssueCreditNote(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	inv := mustFinalize(t, pool, mustDraft(t, pool, sampleDraft()).ID) // 1000 + 15.24 - 100 = 915.24
	r1 := CreditNoteRequest{Key: "credit_note:" + inv.ID + ":ticket-17", InvoiceID: inv.ID, Reason: "API outage on Jan 12",
		IssueDate: date("2026-02-10"), Lines: []CreditLineRequest{{InvoiceLineNo: 2, Amount: dec("5.24")}}}
	cn, err := IssueCreditNote(ctx, pool, r1)
	if err != nil || cn.Number != "CN-ACMEUS-000001" || !cn.Total.Equal(dec("5.24")) || !cn.AppliedToDue.Equal(dec("5.24")) ||
		!cn.Excess.IsZero() || len(cn.Lines) != 1 || cn.Lines[0].InvoiceLineNo != 2 || cn.IssueDate.String() != "2026-02-10" {
		t.Fatalf("credit note: %v %+v", err, cn)
	}
	got, _ := Get(ctx, pool, inv.ID)
	if got.Status != StatusFinalized || !got.AmountCredited.Equal(dec("5.24")) || !got.AmountDue.Equal(dec("910")) {
		t.Fatalf("invoice after credit: %+v", got)
	}
	// Already done: the same request returns the same note and credits nothing more.
	again, err := IssueCreditNote(ctx, pool, r1)
	if err != nil || again.ID != cn.ID {
		t.Fatalf("retry: %v %+v", err, again)
	}
	if got, _ := Get(ctx, pool, inv.ID); !got.AmountCredited.Equal(dec("5.24")) {
		t.Fatalf("retry credited again: %s", got.AmountCredited)
	}
	r1b := r1
	r1b.Lines = []CreditLineRequest{{InvoiceLineNo: 2, Amount: dec("6")}}
	var ce *ConflictError
	if _, err := IssueCreditNote(ctx, pool, r1b); !errors.As(err, &ce) {
		t.Fatalf("conflict: %v", err)
	}
	// Part paid, then credited in full: the credit settles what is due and the rest is excess.
	if _, err := RecordPayment(ctx, pool, Payment{Key: "p:1", InvoiceID: inv.ID, Amount: dec("500"), ReceivedAt: t0}); err != nil {
		t.Fatal(err)
	}
	full := CreditNoteRequest{Key: FullCreditKey(inv.ID), InvoiceID: inv.ID, Reason: "contract cancelled", Full: true, IssueDate: date("2026-02-11")}
	fcn, err := IssueCreditNote(ctx, pool, full)
	if err != nil || fcn.Number != "CN-ACMEUS-000002" || !fcn.Total.Equal(dec("910")) || !fcn.AppliedToDue.Equal(dec("410")) ||
		!fcn.Excess.Equal(dec("500")) || len(fcn.Lines) != 3 || !fcn.Full {
		t.Fatalf("full credit: %v %+v", err, fcn)
	}
	got, _ = Get(ctx, pool, inv.ID)
	if got.Status != StatusPaid || !got.AmountCredited.Equal(got.Total) || !got.AmountDue.IsZero() || got.PaidAt == nil {
		t.Fatalf("invoice after full credit: %+v", got)
	}
	if again, err := IssueCreditNote(ctx, pool, full); err != nil || again.ID != fcn.ID {
		t.Fatalf("full retry: %v", err)
	}
	var re *RuleError
	if _, err := IssueCreditNote(ctx, pool, CreditNoteRequest{Key: "cn:again", InvoiceID: inv.ID, Reason: "x", Full: true, IssueDate: date("2026-02-12")}); !errors.As(err, &re) {
		t.Fatalf("nothing left: %v", err)
	}
	notes, err := CreditNotesOf(ctx, pool, inv.ID)
	if err != nil || len(notes) != 2 || notes[0].ID != cn.ID || len(notes[1].Lines) != 3 {
		t.Fatalf("list: %v %+v", err, notes)
	}
	if _, err := pool.Exec(ctx, `UPDATE credit_notes SET total = 1 WHERE id = $1`, cn.ID); db.PgCode(err) != "P0001" {
		t.Fatalf("credit note update: %v", err)
	}
	// Drafts are not credited, and a credited invoice cannot be voided.
	draft := mustDraft(t, pool, oneOff("k:d", "acme-us", "50.00"))
	var te *TransitionError
	if _, err := IssueCreditNote(ctx, pool, CreditNoteRequest{Key: "cn:d", InvoiceID: draft.ID, Reason: "x", Full: true, IssueDate: date("2026-02-12")}); !errors.As(err, &te) {
		t.Fatalf("credit draft: %v", err)
	}
	fin := mustFinalize(t, pool, draft.ID)
	if _, err := IssueCreditNote(ctx, pool, CreditNoteRequest{Key: "cn:f", InvoiceID: fin.ID, Reason: "x", IssueDate: date("2026-02-12"),
		Lines: []CreditLineRequest{{InvoiceLineNo: 1, Amount: dec("10")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Void(ctx, pool, fin.ID, "mistake", t0); !errors.As(err, &re) {
		t.Fatalf("void credited: %v", err)
	}
	if _, err := GetCreditNote(ctx, pool, "cn_missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestIssueCreditNoteConcurrentNeverOverCredits(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t).Pool
	inv := mustFinalize(t, pool, mustDraft(t, pool, oneOff("k:1", "acme-us", "1000.00")).ID)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var numbers []string
	refused := 0
	for i := range 12 {
		wg.Go(func() {
			cn, err := IssueCreditNote(ctx, pool, CreditNoteRequest{Key: fmt.Sprintf("cn:%d", i), InvoiceID: inv.ID, Reason: "goodwill",
				IssueDate: date("2026-02-10"), Lines: []CreditLineRequest{{InvoiceLineNo: 1, Amount: dec("100")}}})
			mu.Lock()
			defer mu.Unlock()
			var ve *ValidationError
			switch {
			case err == nil:
				numbers = append(numbers, cn.Number)
			case errors.As(err, &ve):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	var want []string
	for i := 1; i <= 10; i++ {
		want = append(want, FormatNumber("CN-ACMEUS-", int64(i)))
	}
	if !slices.Equal(numbers, want) || refused != 2 {
		t.Fatalf("numbers %v (refused %d), want %v and 2 refused", numbers, refused, want)
	}
	got, _ := Get(ctx, pool, inv.ID)
	if !got.AmountCredited.Equal(dec("1000")) || got.Status != StatusPaid {
		t.Fatalf("invoice: %+v", got)
	}
}
