package payment_test

import (
	"context"
	"strings"
	"testing"

	"github.com/revhub/revhub/connectors/bank"
	"github.com/revhub/revhub/connectors/provider"
	"github.com/revhub/revhub/internal/payment"
	"github.com/revhub/revhub/mappings"
)

func TestBankMatching(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.receivable(t, "INV-901", "1000.00", "EUR")
	b := e.receivable(t, "INV-902", "500.00", "EUR")
	c := e.receivable(t, "INV-903", "300.00", "EUR")
	d := e.receivable(t, "INV-904", "200.00", "USD")
	spaced := func(ref string) string { // as banks print it: groups of four, lower case
		var parts []string
		for i := 0; i < len(ref); i += 4 {
			parts = append(parts, ref[i:min(i+4, len(ref))])
		}
		return strings.ToLower(strings.Join(parts, " "))
	}
	csv := "account,transaction_id,booked_on,amount,currency,reference,counterparty\n" +
		"DE89,T1,2026-11-02,1000.00,EUR,Payment " + spaced(a.Reference) + ",ACME\n" + // exact: paid
		"DE89,T2,2026-11-02,200.00,EUR," + b.Reference + ",Beta\n" + // partial
		"DE89,T3,2026-11-03,300.00,EUR," + b.Reference + ",Beta\n" + // settles the rest: paid
		"DE89,T4,2026-11-03,350.00,EUR," + c.Reference + ",Gamma\n" + // over-paid by 50
		"DE89,T5,2026-11-03,10.00,EUR," + c.Reference + ",Gamma\n" + // invoice already paid: all excess
		"DE89,T6,2026-11-04,75.00,EUR,RF18539007547034,Unknown\n" + // valid reference, no invoice
		"DE89,T7,2026-11-04,75.00,EUR,thanks for the invoice,Delta\n" + // no reference
		"DE89,T8,2026-11-04,200.00,EUR," + d.Reference + ",Delta\n" + // currency mismatch
		"DE89,T9,2026-11-04,-12.00,EUR,bank fee,\n" // debit
	lines, err := bank.ParseCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	var in []payment.StatementLine
	for _, l := range lines {
		in = append(in, mappings.BankStatementLine(l))
	}
	res, err := e.svc.MatchLines(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		outcome, invoice, applied, excess, remaining, exception string
	}{
		{payment.MatchPaid, "INV-901", "1000", "0", "0", ""},
		{payment.MatchPartial, "INV-902", "200", "0", "300", ""},
		{payment.MatchPaid, "INV-902", "300", "0", "0", ""},
		{payment.MatchOverpaid, "INV-903", "300", "50", "0", payment.ExceptionOverpayment},
		{payment.MatchOverpaid, "INV-903", "0", "10", "0", payment.ExceptionOverpayment},
		{payment.MatchUnmatched, "", "0", "0", "0", payment.ExceptionUnknownReference},
		{payment.MatchUnmatched, "", "0", "0", "0", payment.ExceptionNoReference},
		{payment.MatchUnmatched, "", "0", "0", "0", payment.ExceptionCurrency},
		{payment.MatchUnmatched, "", "0", "0", "0", payment.ExceptionDebit},
	}
	for i, w := range want {
		r := res[i]
		if r.Outcome != w.outcome || r.InvoiceID != w.invoice || !r.Applied.Equal(dec(w.applied)) || !r.Excess.Equal(dec(w.excess)) ||
			!r.Remaining.Equal(dec(w.remaining)) || r.Exception != w.exception || r.Already {
			t.Errorf("line %d: %+v\nwant %+v", i+1, r, w)
		}
	}
	for inv, want := range map[string]string{"INV-901": "1000", "INV-902": "500", "INV-903": "300", "INV-904": "0"} {
		if paid, _ := payment.Paid(ctx, e.db.Pool, inv); !paid.Equal(dec(want)) {
			t.Errorf("%s paid %s, want %s", inv, paid, want)
		}
	}
	// Importing the same statement again changes nothing.
	again, err := e.svc.MatchLines(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if !r.Already || r.Outcome != res[i].Outcome || !r.Applied.Equal(res[i].Applied) {
			t.Errorf("re-import line %d: %+v", i+1, r)
		}
	}
	exc, err := payment.ListExceptions(ctx, e.db.Pool, provider.Bank)
	if err != nil || len(exc) != 6 {
		t.Fatalf("exceptions %d %v, want 6", len(exc), err)
	}
	if exc[0].Kind != payment.ExceptionOverpayment || !exc[0].Amount.Equal(dec("50")) || exc[0].InvoiceID != "INV-903" {
		t.Fatalf("first exception %+v", exc[0])
	}
	var transfers int
	_ = e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM payments WHERE kind = 'transfer'`).Scan(&transfers)
	if transfers != 4 {
		t.Fatalf("%d transfer payments, want 4", transfers)
	}
}

func TestReceivableRegistration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.receivable(t, "INV-950", "10.00", "USD")
	if err := e.svc.RegisterReceivable(ctx, r); err != nil {
		t.Fatalf("registering again: %v", err)
	}
	r2 := r
	r2.Amount = dec("11.00")
	if err := e.svc.RegisterReceivable(ctx, r2); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Fatalf("changed amount: %v", err)
	}
	r3 := r
	r3.InvoiceID = "INV-951"
	if err := e.svc.RegisterReceivable(ctx, r3); err == nil || !strings.Contains(err.Error(), "already used by another invoice") {
		t.Fatalf("reused reference: %v", err)
	}
	bad := payment.Receivable{Reference: "RF00X", Currency: "usd", Amount: dec("0")}
	err := e.svc.RegisterReceivable(ctx, bad)
	if err == nil || !containsAll(err.Error(), "invoice_id: is required", "customer_id: is required", "reference:", "currency:", "amount: must be positive") {
		t.Fatalf("validation: %v", err)
	}
}
